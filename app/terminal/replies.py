"""What the gateway hands back: raw call replies, order outcomes and call statistics."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import TerminalCallFailed, TerminalRequestInvalid, TerminalUnavailable
from app.terminal.constants import RES_E_INVALID_PARAMS
from app.terminal.retcodes import IPC_ERROR_CODES, RetcodeClass, RetryHint, retry_hint
from app.terminal.structs import OrderSendResult


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One terminal call's answer, as the module gave it (converted to plain values)."""

    value: Any
    #: ``last_error()`` right after the call when it returned None or False, else ``(1, "Success")``.
    error: tuple[int, str]
    #: ``"TypeError: message"`` when the call raised instead of answering (a bad call, not a failure).
    raised: str | None
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.raised is None and self.value is not None and self.value is not False


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderOutcome:
    """The terminal's verdict on one ``order_send`` request (never an exception)."""

    #: The server's retcode; None when the request never reached the server (see ``error``).
    retcode: int | None
    klass: RetcodeClass | None
    result: OrderSendResult | None
    error: tuple[int, str]
    request: dict[str, Any]
    comment: str

    @property
    def ok(self) -> bool:
        return self.klass is RetcodeClass.SUCCESS

    @property
    def hint(self) -> RetryHint:
        return RetryHint.NONE if self.retcode is None else retry_hint(self.retcode)


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayStats:
    """Terminal call statistics for the health panel; latencies over the most recent calls."""

    count: int
    failures: int
    timeouts: int
    restarts: int
    p50_s: float | None
    p99_s: float | None


class CallStats:
    """Running counters plus a window of recent call durations."""

    def __init__(self, window: int = 1000) -> None:
        self.count = 0
        self.failures = 0
        self.timeouts = 0
        self.restarts = 0
        self._durations: deque[float] = deque(maxlen=window)

    def record(self, duration_s: float, *, ok: bool) -> None:
        self.count += 1
        self.failures += not ok
        self._durations.append(duration_s)

    def snapshot(self) -> GatewayStats:
        p50 = p99 = None
        if self._durations:
            p50, p99 = (float(v) for v in np.percentile(np.fromiter(self._durations, float), (50, 99)))
        return GatewayStats(
            count=self.count,
            failures=self.failures,
            timeouts=self.timeouts,
            restarts=self.restarts,
            p50_s=p50,
            p99_s=p99,
        )


def require(function: str, reply: Reply) -> Any:
    """The reply's value, or the exception that says why there is none."""
    if reply.raised is not None:
        raise TerminalRequestInvalid(function, RES_E_INVALID_PARAMS, reply.raised)
    if reply.value is None or reply.value is False:
        code, message = reply.error
        if code in IPC_ERROR_CODES:
            raise TerminalUnavailable(f"{function}: ({code}, {message!r})")
        if code == RES_E_INVALID_PARAMS:
            raise TerminalRequestInvalid(function, code, message)
        raise TerminalCallFailed(function, code, message)
    return reply.value
