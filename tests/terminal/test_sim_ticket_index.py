"""The simulated book's ticket indexes (one ticket kept as itself, more in the order added) and shared seconds."""

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


def test_seconds_of_gives_the_whole_second_sharing_one_int_within_a_second() -> None:
    from app.terminal.sim.clock import seconds_of

    stamps = [1_772_600_000_000 + step for step in (0, 1, 999, 1000, 1500, 999_999, 999_999, 0, -1)]
    seen = [seconds_of(msc) for msc in stamps]
    assert seen == [msc // 1000 for msc in stamps] and all(type(s) is int for s in seen)
    assert seconds_of(1_772_600_007_001) is seconds_of(1_772_600_007_999)


def test_the_clock_answers_one_int_object_within_a_millisecond() -> None:
    from app.terminal.sim.clock import SimClock

    wall = [1000.0]
    clock = SimClock(start=1_772_600_000.0, wall=lambda: wall[0])
    first = clock.now_msc()
    assert clock.now_msc() is first == 1_772_600_000_000
    wall[0] += 0.0105
    assert clock.now_msc() == 1_772_600_000_010
