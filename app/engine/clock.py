"""The engine's clock: the terminal's (broker server) time as seen in its ticks, never the wall clock.

Timers, cooldowns and bar closes all run on it, so the simulator's faster clock drives them in tests.
"""

from __future__ import annotations

import time


class TerminalClock:
    def __init__(self) -> None:
        self._server: float | None = None
        self._wall_at_observation = 0.0

    def observe(self, server_time: float) -> None:
        """Record a server time seen in a tick; time never goes backwards."""
        if self._server is None or server_time > self._server:
            self._server = server_time
            self._wall_at_observation = time.time()

    def now(self) -> float:
        """The latest server time seen; before any tick, the wall clock."""
        return self._server if self._server is not None else time.time()

    @property
    def observed(self) -> bool:
        return self._server is not None
