"""The engine's clock: the terminal's (broker server) time, never bare UTC wall time.

Timers, cooldowns, bar closes and the daily-loss day all run on it. While ticks flow it is the latest tick
time, so the simulator's faster clock drives every timer in a test. It keeps running when ticks stop (the
broker link is lost, or the market is quiet): then it is the wall clock moved into the server's time zone,
whose offset from UTC is measured once per connection and rounded to whole quarter hours (from the freshest
quote at connect, confirmed by the first tick that moves: a closed market's last quote may be hours old).
Before any tick it is that same zone-shifted wall time, so a day boundary is the broker's midnight, not UTC's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Time zones are whole quarter hours away from UTC.
ZONE_STEP_S = 900
#: No newer tick for this long (wall seconds) counts as ticks having stopped.
QUIET_AFTER_S = 60.0
#: Time zones in use run from UTC-12 to UTC+14: a larger gap is a stale quote, not a zone.
_ZONES = (-12 * 3600 - ZONE_STEP_S, 14 * 3600 + ZONE_STEP_S)


def server_offset(server_time: float, wall: float) -> int:
    """The server's offset from UTC in seconds, rounded to whole quarter hours (a tick is never exactly now)."""
    return round((server_time - wall) / ZONE_STEP_S) * ZONE_STEP_S


class TerminalClock:
    def __init__(self, *, wall: Callable[[], float] = time.time, quiet_after_s: float = QUIET_AFTER_S) -> None:
        self._wall = wall
        self._quiet_after_s = quiet_after_s
        self._server: float | None = None
        self._wall_at_observation = 0.0
        self._offset: int | None = None
        self._provisional = False
        self._seen_on_connection = False
        self._link_up = True

    def observe(self, server_time: float) -> None:
        """Record a server time seen in a tick; time never goes backwards. A tick newer than the last one seen
        on this connection has just arrived: if the zone is not known for sure yet, it is measured from it."""
        if self._server is None or server_time > self._server:
            fresh = self._seen_on_connection and self._server is not None
            self._server = server_time
            self._wall_at_observation = self._wall()
            if fresh and (self._offset is None or self._provisional):
                self.measure_offset(server_time)
        self._seen_on_connection = True

    def new_connection(self) -> None:
        """A new connection may be to another server (another zone): the offset is measured again."""
        self._offset = None
        self._provisional = False
        self._seen_on_connection = False

    def measure_offset(self, server_time: float, *, provisional: bool = False) -> int | None:
        """Measure the server's zone from a server time seen just now, once per connection. ``provisional``: the
        quote may be old (a closed market keeps its last quote), so the first moving tick measures it again.
        A gap no time zone has is ignored."""
        if self._offset is not None and not self._provisional:
            return self._offset
        offset = server_offset(server_time, self._wall())
        if _ZONES[0] <= offset <= _ZONES[1]:
            self._offset, self._provisional = offset, provisional
        return self._offset

    def set_link(self, connected: bool) -> None:
        """What ``terminal_info().connected`` says: without the broker's server no tick is current."""
        self._link_up = connected

    @property
    def offset(self) -> int | None:
        """Seconds the server's clock is ahead of UTC (None until measured on this connection)."""
        return self._offset

    @property
    def ticking(self) -> bool:
        """True while the ticks are the clock: the broker link is up and a tick came recently."""
        return (
            self._server is not None
            and self._link_up
            and self._wall() - self._wall_at_observation < self._quiet_after_s
        )

    def now(self) -> float:
        """Server time: the latest tick time while ticks flow, else zone-shifted wall time (never behind the
        latest tick)."""
        if self.ticking:
            return float(self._server)  # type: ignore[arg-type]
        wall = self._wall()
        if self._offset is not None:
            running = wall + self._offset
        elif self._server is not None:
            running = self._server + (wall - self._wall_at_observation)
        else:
            running = wall
        return running if self._server is None else max(self._server, running)

    @property
    def observed(self) -> bool:
        return self._server is not None
