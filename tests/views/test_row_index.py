"""The trades table's row index: each trade's row found without a scan, rows inserted and removed with the
others' rows right, slots reused, and the live sort keys sorted again as a full stable sort would."""

from __future__ import annotations

import math
import random

import numpy as np

from app.views.row_index import NO_KEY, RowIndex, field_keys


def check_rows(index: RowIndex) -> None:
    """Every shown trade's row is its place in ``rows``; ``order`` holds their slots."""
    assert [index.row_of(t) for t in index.rows] == list(range(len(index.rows)))
    assert index.ticket[index.order].tolist() == index.rows


def test_rows_inserted_and_removed_leave_every_other_row_right() -> None:
    index = RowIndex()
    tickets = list(range(1000, 1200))  # more than the first capacity: the arrays grow
    index.reset(tickets[:10])
    for ticket in tickets[10:]:
        index.add(ticket)
    index.set_rows(tickets[::2])
    check_rows(index)
    assert index.row_of(tickets[1]) is None, "a trade not shown has no row"
    assert index.row_of(5) is None, "nor has an unknown ticket"

    index.insert(3, tickets[1])
    index.insert(0, tickets[3])
    index.insert(len(index.rows), tickets[5])
    check_rows(index)
    assert index.rows[:5] == [tickets[3], tickets[0], tickets[2], tickets[4], tickets[1]]

    for row in (4, 0, -1, 50):  # -1: the last row
        removed = index.remove(row if row >= 0 else len(index.rows) - 1)
        assert index.row_of(removed) is None
        check_rows(index)
    assert index.rows[:3] == [tickets[0], tickets[2], tickets[4]]


def test_a_dropped_trades_slot_is_reused_with_no_key_and_no_row() -> None:
    index = RowIndex()
    index.reset([1, 2, 3])
    index.set_rows([1, 2, 3])
    index.set_keys(np.array([index.slot(2)]), np.array([5.0]))
    index.remove(1)
    index.drop(2)
    assert index.slot(2) is None and index.row_of(2) is None
    assert index.add(4) == index.slot(4) and index.key_of(4) == NO_KEY and index.row_of(4) is None
    index.insert(1, 4)
    check_rows(index)
    assert index.rows == [1, 4, 3]


def test_slots_mark_unknown_tickets_and_follow_a_trade_added_since_the_last_answer() -> None:
    index = RowIndex()
    index.reset([10, 20])
    slots, known = index.slots([20, 99, 10])
    assert known.tolist() == [True, False, True] and slots[0] == index.slot(20) and slots[2] == index.slot(10)
    index.add(99)
    slots, known = index.slots([20, 99, 10])
    assert known.all() and slots[1] == index.slot(99), "the cached answer is not reused after a change"


def test_a_resort_equals_a_full_stable_sort_and_says_when_nothing_moved() -> None:
    rng = random.Random(7)
    tickets = list(range(1, 301))
    index = RowIndex()
    index.reset(tickets)
    index.set_rows(tickets)
    for descending in (False, True, True):
        keys = {t: rng.choice([NO_KEY, 1.0, 2.0, rng.uniform(-50, 50)]) for t in tickets}  # ties and no values
        index.set_keys(np.array([index.slot(t) for t in tickets]), np.array([keys[t] for t in tickets]))
        before = list(index.rows)
        resorted = index.resorted(descending)
        assert resorted is not None
        rows, slots = resorted
        assert rows == sorted(before, key=keys.__getitem__, reverse=descending), "equal keys keep their order"
        index.set_order(rows, slots)
        check_rows(index)
        assert index.resorted(descending) is None, "in order already"
        assert index.ordered_by_key(tickets, descending) == sorted(tickets, key=keys.__getitem__, reverse=descending)


def test_field_keys_take_a_missing_value_as_no_key() -> None:
    rows = [{"profit": 1.5}, {"profit": None}, {"profit": math.nan}, {}]
    assert field_keys(rows, "profit").tolist() == [1.5, NO_KEY, NO_KEY, NO_KEY]
    assert field_keys([{"profit": 2.0}, {"profit": -1.0}], "profit").tolist() == [2.0, -1.0]


def test_slots_are_found_for_many_tickets_and_never_for_a_dropped_one() -> None:
    rng = random.Random(11)
    tickets = rng.sample(range(10**8, 10**9), 500)
    index = RowIndex()
    index.reset(tickets[:300])
    for ticket in tickets[300:]:
        index.add(ticket)
    for ticket in tickets[::7]:
        index.drop(ticket)
    asked = rng.sample(tickets, 200) + [5, 10**9 + 1]
    slots, known = index.slots(asked)
    expected = [index.slot(t) for t in asked]
    assert known.tolist() == [s is not None for s in expected]
    assert [int(s) for s, k in zip(slots, known, strict=True) if k] == [s for s in expected if s is not None]
    assert all(index.ticket[index.slot(t)] == t for t in asked if index.slot(t) is not None)
    empty = RowIndex()
    assert empty.slots([1, 2])[1].tolist() == [False, False]


def test_update_keys_says_which_keys_moved() -> None:
    index = RowIndex()
    index.reset([1, 2, 3])
    assert index.update_keys([1, 2, 3], np.array([0.5, 1.0, 2.0])) == [0, 1, 2]
    assert index.update_keys([3, 2, 9, 1], np.array([2.0, -1.0, 4.0, math.nan])) == [1, 3], "9 has no slot"
    assert [index.key_of(t) for t in (1, 2, 3)] == [NO_KEY, -1.0, 2.0]
    assert index.update_keys([], np.zeros(0)) == []
