"""The position book keeps positions as columns: every read gives back what ``positions_get`` answered."""

from __future__ import annotations

import pickle
import random

import pytest

from app.engine import position_book
from app.engine.position_book import PositionBook
from app.terminal.position_feed import PositionFeed
from app.terminal.structs import TradePosition


def position(ticket: int, rng: random.Random, **changes: object) -> TradePosition:
    made = TradePosition(
        ticket=ticket,
        time=1_772_600_000 + ticket,
        time_msc=(1_772_600_000 + ticket) * 1000 + 17,
        time_update=1_772_600_000 + ticket,
        time_update_msc=(1_772_600_000 + ticket) * 1000 + 99,
        type=ticket % 2,
        magic=rng.choice((0, 777, 2**63 - 1)),
        identifier=ticket,
        reason=3,
        volume=rng.choice((0.01, 0.1, 1.25)),
        price_open=round(rng.uniform(1.0, 2.0), 5),
        sl=rng.choice((0.0, 0.9)),
        tp=rng.choice((0.0, 2.5)),
        price_current=round(rng.uniform(1.0, 2.0), 5),
        swap=rng.choice((0.0, -0.37)),
        profit=round(rng.uniform(-50, 50), 2),
        symbol=rng.choice(("EURUSD", "XAUUSD", "USDJPY")),
        comment=rng.choice(("", "grid 7", "DTMS_HEDGE_1", "DTMS_READD_2")),
        external_id=rng.choice(("", "ext-9")),
    )
    return made._replace(**changes)


class Terminal:
    """Open positions as a terminal answers them (unpickled, as they cross from the worker)."""

    def __init__(self) -> None:
        self.open: dict[int, TradePosition] = {}
        self.feed = PositionFeed()

    def answer(self, book: PositionBook) -> None:
        positions = pickle.loads(pickle.dumps(tuple(self.open.values())))
        book.apply(self.feed.changes(positions, book.cursor))


def assert_same(book: PositionBook, terminal: Terminal) -> None:
    assert set(book) == terminal.open.keys()
    for ticket, truth in terminal.open.items():
        read = book[ticket]
        assert type(read) is TradePosition and read == truth
        assert [type(value) for value in read] == [type(value) for value in truth]
    assert sorted(book.as_changed()) == sorted(terminal.open.values())


def test_reads_by_ticket_give_each_position_as_the_terminal_answered_it_through_opens_changes_and_closes() -> None:
    rng = random.Random(11)
    terminal = Terminal()
    book = PositionBook()
    for ticket in range(1000, 1040):
        terminal.open[ticket] = position(ticket, rng)
    terminal.answer(book)
    assert book.full and book.changed == terminal.open.keys()
    assert_same(book, terminal)
    next_ticket = 2000
    for step in range(60):
        kind = rng.choice(("move", "open", "close", "modify", "open_close"))
        tickets = list(terminal.open)
        if kind in ("open", "open_close"):
            for _ in range(rng.randint(1, 4)):
                terminal.open[next_ticket] = position(next_ticket, rng)
                next_ticket += 1
        if kind in ("close", "open_close") and tickets:
            for ticket in rng.sample(tickets, min(len(tickets), rng.randint(1, 5))):
                del terminal.open[ticket]
        if kind == "modify" and tickets:
            ticket = rng.choice(tickets)
            terminal.open[ticket] = terminal.open[ticket]._replace(sl=1.11, comment="moved", magic=5)
        for ticket, held in terminal.open.items():
            terminal.open[ticket] = held._replace(price_current=held.price_current + 0.001, profit=step * 1.5)
        before = set(book)
        terminal.answer(book)
        assert not book.full
        assert book.removed == before - terminal.open.keys()
        assert_same(book, terminal)
        assert book.floating() == pytest.approx(sum(p.profit + p.swap for p in terminal.open.values()))


def test_a_position_whose_number_does_not_fit_64_bits_is_kept_whole() -> None:
    rng = random.Random(2)
    terminal = Terminal()
    book = PositionBook()
    terminal.open = {t: position(t, rng) for t in (5, 6, 7)}
    terminal.open[6] = terminal.open[6]._replace(magic=2**64 - 1)
    terminal.answer(book)
    assert_same(book, terminal)
    terminal.open[6] = terminal.open[6]._replace(magic=3, price_current=9.5)
    terminal.open[8] = position(8, rng, magic=2**70)
    terminal.answer(book)
    assert_same(book, terminal)


def test_commented_builds_only_the_positions_with_those_prefixes() -> None:
    rng = random.Random(4)
    terminal = Terminal()
    book = PositionBook()
    terminal.open = {t: position(t, rng) for t in range(100, 160)}
    terminal.answer(book)
    prefixes = ("DTMS_HEDGE_", "DTMS_READD_")
    expected = sorted(p for p in terminal.open.values() if p.comment.startswith(prefixes))
    assert expected and sorted(book.commented(prefixes)) == expected
    assert book.commented(("nothing",)) == []


def test_row_numbers_are_shared_and_count_from_zero() -> None:
    from app.engine.position_book import row_numbers

    first = row_numbers(3000)
    assert first[:3000] == list(range(3000))
    again = row_numbers(5000)
    assert again[:5000] == list(range(5000)) and again[2999] is first[2999]


def test_equal_texts_share_one_object_and_the_texts_kept_for_it_are_bounded() -> None:
    """Every position with its own comment (as some bots make them) over a long run: the book keeps one object
    per equal text in a bounded table, never one that lives as long as the process."""
    rng = random.Random(5)
    book, terminal = PositionBook(), Terminal()
    for ticket in range(1, 4):
        terminal.open[ticket] = position(ticket, rng, comment="grid 7")
    terminal.answer(book)
    terminal.answer(book)
    for ticket in range(1, 4):  # changed one by one: the rows taken from the changes
        terminal.open[ticket] = terminal.open[ticket]._replace(sl=0.8, comment="grid 8")
    terminal.answer(book)
    assert book[1].comment is book[2].comment is book[3].comment == "grid 8"
    for ticket in range(10, 10 + 2 * 4096):
        terminal.open = {ticket: position(ticket, rng, comment=f"bot order {ticket}")}
        terminal.answer(book)
    assert len(position_book._TEXTS) <= 4096
    assert_same(book, terminal)
