"""The engine's clock: tick time while ticks flow, zone-shifted wall time when they stop or before any."""

from __future__ import annotations

from app.engine.clock import QUIET_AFTER_S, TerminalClock, server_offset


class Wall:
    def __init__(self, t: float = 1_772_611_200.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_the_offset_is_rounded_to_quarter_hours() -> None:
    assert server_offset(1000.0 + 7200 - 40, 1000.0) == 7200, "a tick 40 s old still says UTC+2"
    assert server_offset(1000.0 + 3 * 3600 + 300, 1000.0) == 3 * 3600 + 0
    assert server_offset(1000.0 + 5 * 3600 + 1800, 1000.0) == 5 * 3600 + 1800, "UTC+5:30"
    assert server_offset(1000.0 - 4 * 3600, 1000.0) == -4 * 3600


def test_before_any_tick_the_clock_is_wall_time_in_the_servers_zone() -> None:
    wall = Wall()
    clock = TerminalClock(wall=wall)
    assert clock.now() == wall.t
    clock.measure_offset(wall.t + 7200 - 3)
    assert clock.now() == wall.t + 7200
    clock.measure_offset(wall.t)  # measured once per connection
    assert clock.offset == 7200
    clock.new_connection()
    assert clock.offset is None


def test_ticks_drive_the_clock_and_it_runs_on_once_they_stop() -> None:
    wall = Wall()
    clock = TerminalClock(wall=wall)
    clock.measure_offset(wall.t + 7200)
    clock.observe(wall.t + 7200 - 1)
    wall.t += 5
    assert clock.now() == wall.t - 5 + 7200 - 1, "tick time while ticks flow"
    wall.t += QUIET_AFTER_S
    assert clock.now() == wall.t + 7200, "no tick for a minute: wall time in the server's zone"


def test_a_lost_broker_link_switches_to_wall_time_at_once() -> None:
    wall = Wall()
    clock = TerminalClock(wall=wall)
    clock.measure_offset(wall.t)
    clock.observe(wall.t)
    clock.set_link(False)
    wall.t += 30
    assert clock.now() == wall.t
    clock.set_link(True)
    assert clock.now() == wall.t - 30, "ticks are the clock again"


def test_without_a_measured_zone_the_clock_runs_on_from_the_last_tick() -> None:
    wall = Wall()
    clock = TerminalClock(wall=wall)
    clock.observe(wall.t + 10_000)
    clock.set_link(False)
    wall.t += 120
    assert clock.now() == wall.t - 120 + 10_000 + 120


def test_a_stale_quote_at_connect_is_corrected_by_the_first_moving_tick() -> None:
    wall = Wall()
    clock = TerminalClock(wall=wall)
    friday_close = wall.t + 7200 - 9 * 3600  # a closed market's last quote, nine hours old
    clock.measure_offset(friday_close, provisional=True)
    assert clock.offset == -7 * 3600
    clock.observe(friday_close)
    assert clock.offset == -7 * 3600, "the same old quote again: nothing learnt"
    clock.observe(wall.t + 7200 - 1)  # the market opens: a tick that just arrived
    assert clock.offset == 7200
    clock.observe(wall.t + 7200 + 3 * 3600)
    assert clock.offset == 7200, "measured once per connection"


def test_a_gap_no_time_zone_has_is_not_taken_for_one() -> None:
    wall = Wall()
    clock = TerminalClock(wall=wall)
    assert clock.measure_offset(wall.t - 3 * 86400, provisional=True) is None
    assert clock.now() == wall.t
