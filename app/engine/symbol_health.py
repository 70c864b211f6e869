"""Symbols whose prices or bars fail, each retried with its own back-off while the others go on.

A symbol outside Market Watch has no tick until it is selected, and a first request for history finds it
still downloading for seconds to tens of seconds: one such symbol must not leave every trade unprotected.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Wall seconds before a failing symbol is tried again, after its 1st, 2nd, ... failure in a row.
RETRY_BACKOFF_S = (2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(slots=True, kw_only=True)
class _Failing:
    reason: str
    failures: int
    retry_at: float


class SymbolHealth:
    def __init__(self, *, wall: Callable[[], float] = time.time, backoff: tuple[float, ...] = RETRY_BACKOFF_S) -> None:
        self._wall = wall
        self._backoff = backoff
        self._failing: dict[str, _Failing] = {}

    def problems(self) -> dict[str, str]:
        """Failing symbol -> why (for the health panel)."""
        return {symbol: f.reason for symbol, f in sorted(self._failing.items())}

    def failing(self, symbol: str) -> bool:
        return symbol in self._failing

    def due(self, symbol: str) -> bool:
        """May the symbol be tried now (healthy, or its back-off has passed)?"""
        failing = self._failing.get(symbol)
        return failing is None or self._wall() >= failing.retry_at

    def failed(self, symbol: str, reason: str) -> bool:
        """Note a failure; True when the symbol was healthy until now (tell the trader)."""
        previous = self._failing.get(symbol)
        failures = previous.failures + 1 if previous else 1
        delay = self._backoff[min(failures - 1, len(self._backoff) - 1)]
        self._failing[symbol] = _Failing(reason=reason, failures=failures, retry_at=self._wall() + delay)
        logger.warning("%s failing (%d in a row, next try in %.0f s): %s", symbol, failures, delay, reason)
        return previous is None

    def recovered(self, symbol: str) -> bool:
        """Note a success; True when the symbol was failing until now."""
        if self._failing.pop(symbol, None) is None:
            return False
        logger.info("%s answers again", symbol)
        return True

    def forget(self, symbol: str) -> None:
        self._failing.pop(symbol, None)
