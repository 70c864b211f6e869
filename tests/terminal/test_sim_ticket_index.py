"""The simulated book's ticket indexes: one ticket kept as itself, more in the order added."""

from __future__ import annotations

from app.terminal.sim.broker import TicketIndex


def test_tickets_come_back_in_the_order_added_whether_one_or_many() -> None:
    index = TicketIndex()
    assert index.get(5) == [] and 5 not in index
    index.add(5, 50)
    assert index.get(5) == [50] and 5 in index
    index.add(5, 51)
    index.add(6, 60)
    index.add(5, 52)
    assert index.get(5) == [50, 51, 52] and index.get(6) == [60]
    index.get(5).append(99)  # what a reader does with the answer does not change the index
    index.get(6).append(99)
    assert index.get(5) == [50, 51, 52] and index.get(6) == [60]
