"""Sends DTMS's orders and judges each answer by its retcode (DTMS_SPEC.md §4).

Every attempt becomes an ``ActionRecord`` with its real outcome; the caller commits the records together
with the trade's new state. Transient answers are retried with fresh prices or a back-off; 10012 (timeout,
outcome unknown) is checked against the terminal's positions before anything is sent again, so a close that
was in fact done is never sent twice. A failure is never reported as a success.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.engine.broker import SymbolRules
from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Direction, Trade
from app.engine.settings import ExecutionSettings
from app.errors import TemporaryError
from app.terminal import constants as mt5
from app.terminal.retcodes import RetcodeClass, RetryHint, describe, retry_hint

logger = logging.getLogger(__name__)

#: IPC failures after which the request may have reached the server and only its answer was lost
#: (a failed send or no connection at all means it never left).
_ANSWER_MAY_BE_LOST = frozenset(
    {mt5.RES_E_INTERNAL_FAIL, mt5.RES_E_INTERNAL_FAIL_RECEIVE, mt5.RES_E_INTERNAL_FAIL_TIMEOUT}
)
#: Answers that say the terminal itself (not this request) stands in the way: Algo Trading off (10027, or -8
#: before the request leaves), automated trading disabled by the broker (10026), no link to the server (10031).
TERMINAL_REFUSALS = frozenset(
    {
        mt5.TRADE_RETCODE_CLIENT_DISABLES_AT,
        mt5.TRADE_RETCODE_SERVER_DISABLES_AT,
        mt5.TRADE_RETCODE_CONNECTION,
        mt5.RES_E_AUTO_TRADING_DISABLED,
    }
)


class OrderGateway(Protocol):
    """What the executor needs of the gateway."""

    async def order_send(self, request: dict[str, Any]) -> Any: ...
    async def tick(self, symbol: str) -> Any: ...
    async def positions(self, **filters: Any) -> tuple[Any, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionResult:
    ok: bool
    outcome: ActionOutcome
    records: tuple[ActionRecord, ...]
    retcode: int | None = None
    volume: float = 0.0
    price: float = 0.0
    position: int | None = None  # the position a new order opened (hedge, re-add)
    detail: str = ""


@dataclass(slots=True)
class _Attempt:
    """What one send of a request came to, before it is journaled."""

    outcome: ActionOutcome
    retcode: int | None
    comment: str
    detail: str
    hint: RetryHint = RetryHint.NONE
    price: float = 0.0
    volume: float = 0.0
    position: int | None = None


class ActionExecutor:
    def __init__(
        self,
        gateway: OrderGateway,
        settings: ExecutionSettings,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        owns: Callable[[int], bool] = lambda _ticket: True,
        blocked: Callable[[], str] = lambda: "",
        refused: Callable[[int], None] = lambda _code: None,
    ) -> None:
        """``owns(ticket)`` is asked right before every send: a trade whose management stopped (or passed to
        another manager) while an action was being prepared gets nothing more. ``blocked()`` names why nothing
        may be sent now (a permission or broker-link rail); ``refused(code)`` hears answers that mean the
        terminal itself refuses (see TERMINAL_REFUSALS), so permissions are read again at once."""
        self._gateway = gateway
        self._owns = owns
        self._blocked = blocked
        self._refused = refused
        self._settings = settings
        self._now = now
        self._sleep = sleep

    # --- the three kinds of order DTMS sends ------------------------------------------------------------

    async def set_stops(self, trade: Trade, *, sl: float, tp: float, kind: ActionKind) -> ActionResult:
        """TRADE_ACTION_SLTP on the trade's position; 10025 NO_CHANGES counts as done."""
        request = {
            "action": mt5.TRADE_ACTION_SLTP,
            "position": trade.ticket,
            "symbol": trade.symbol,
            "sl": float(sl),
            "tp": float(tp),
            "magic": self._settings.magic,
        }

        async def verify() -> bool:
            positions = await self._gateway.positions(ticket=trade.ticket)
            return bool(positions) and abs(positions[0].sl - sl) < 1e-12 and abs(positions[0].tp - tp) < 1e-12

        return await self._run(trade.ticket, kind, lambda: request, verify)

    async def close(
        self,
        trade: Trade,
        *,
        volume: float,
        kind: ActionKind,
        rules: SymbolRules,
        position: int | None = None,
        direction: Direction | None = None,
    ) -> ActionResult:
        """Close ``volume`` of a position (the trade's own, or its hedge) with an opposite deal at bid/ask."""
        ticket = position or trade.ticket
        side = direction or trade.direction
        before = await self._gateway.positions(ticket=ticket)
        if not before:
            return self._not_sent(trade.ticket, kind, {"position": ticket}, "position is already closed")
        volume_before = float(before[0].volume)

        async def build() -> dict[str, Any]:
            tick = await self._gateway.tick(trade.symbol)
            return {
                "action": mt5.TRADE_ACTION_DEAL,
                "position": ticket,
                "symbol": trade.symbol,
                "volume": float(volume),
                "type": mt5.ORDER_TYPE_SELL if side is Direction.BUY else mt5.ORDER_TYPE_BUY,
                "price": float(tick.bid if side is Direction.BUY else tick.ask),
                "deviation": self._settings.deviation_points,
                "type_filling": rules.type_filling(),
                "magic": self._settings.magic,
            }

        async def verify() -> bool:
            now_positions = await self._gateway.positions(ticket=ticket)
            remaining = float(now_positions[0].volume) if now_positions else 0.0
            return remaining <= volume_before - volume + 1e-9

        result = await self._run(trade.ticket, kind, build, verify)
        if result.ok and result.retcode == mt5.TRADE_RETCODE_DONE_PARTIAL and 0 < result.volume < volume - 1e-9:
            return await self._complete_close(trade, volume, kind, rules, ticket, side, result)
        return result

    async def _complete_close(
        self,
        trade: Trade,
        volume: float,
        kind: ActionKind,
        rules: SymbolRules,
        ticket: int,
        side: Direction,
        first: ActionResult,
    ) -> ActionResult:
        """10010: only part was closed. The position is read again and the rest is sent (a few rounds at
        most); what stays open is reported with the volume that was closed, never as done."""
        records = list(first.records)
        filled = first.volume
        last = first
        for _ in range(self._settings.max_attempts):
            left = await self._gateway.positions(ticket=ticket)
            if not left:
                filled = volume  # the position is gone: nothing of it remains open
                break
            rest = min(rules.round_volume_down(volume - filled + 1e-9), float(left[0].volume))
            if rest < rules.volume_min:
                break
            last = await self.close(trade, volume=rest, kind=kind, rules=rules, position=ticket, direction=side)
            records.extend(last.records)
            filled = round(filled + last.volume, 8) if last.volume else filled
            if not last.ok or filled >= volume - 1e-9:
                break
        done = filled >= volume - 1e-9
        detail = (
            f"filled in parts: {filled:g} of {volume:g} closed"
            if done
            else f"only {filled:g} of {volume:g} closed; {volume - filled:g} is still open ({last.detail})"
        )
        outcome = (
            ActionOutcome.SUCCESS
            if done
            else (last.outcome if last.outcome is not ActionOutcome.SUCCESS else ActionOutcome.FAILED)
        )
        return ActionResult(
            ok=done,
            outcome=outcome,
            records=tuple(records),
            retcode=last.retcode,
            volume=filled,
            price=first.price,
            detail=detail,
        )

    async def open(
        self,
        trade: Trade,
        *,
        direction: Direction,
        volume: float,
        sl: float,
        comment: str,
        kind: ActionKind,
        rules: SymbolRules,
    ) -> ActionResult:
        """Open a new position for a trade (hedge or re-add), tagged with ``comment`` so 10012 can be checked."""

        async def build() -> dict[str, Any]:
            tick = await self._gateway.tick(trade.symbol)
            return {
                "action": mt5.TRADE_ACTION_DEAL,
                "symbol": trade.symbol,
                "volume": float(volume),
                "type": mt5.ORDER_TYPE_BUY if direction is Direction.BUY else mt5.ORDER_TYPE_SELL,
                "price": float(tick.ask if direction is Direction.BUY else tick.bid),
                "sl": float(sl),
                "tp": 0.0,
                "deviation": self._settings.deviation_points,
                "type_filling": rules.type_filling(),
                "magic": self._settings.magic,
                "comment": comment,
            }

        found: list[int] = []

        async def verify() -> bool:
            positions = await self._gateway.positions(symbol=trade.symbol)
            found[:] = [p.ticket for p in positions if p.comment == comment]
            return bool(found)

        result = await self._run(trade.ticket, kind, build, verify)
        if result.ok and result.position is None and found:
            return _with_position(result, found[0])
        return result

    # --- the attempt loop -----------------------------------------------------------------------------

    async def _run(
        self,
        ticket: int,
        kind: ActionKind,
        build: Callable[[], Any],
        verify: Callable[[], Awaitable[bool]],
    ) -> ActionResult:
        records: list[ActionRecord] = []
        attempts = self._settings.max_attempts
        last: _Attempt | None = None
        for attempt in range(1, attempts + 1):
            try:
                request = build()
                if asyncio.iscoroutine(request):
                    request = await request
            except TemporaryError as error:
                # the terminal went away while the next attempt was prepared: nothing more was sent, and the
                # attempts already made are kept in the journal
                last = _Attempt(ActionOutcome.NOT_SENT, None, "", f"not sent: the terminal is unavailable ({error})")
                records.append(self._record(ticket, kind, {}, ActionOutcome.NOT_SENT, last, attempt))
                return ActionResult(
                    ok=False, outcome=ActionOutcome.NOT_SENT, records=tuple(records), detail=last.detail
                )
            if not self._owns(ticket):
                last = _Attempt(ActionOutcome.NOT_SENT, None, "", "not sent: DTMS no longer manages this trade")
                records.append(self._record(ticket, kind, request, ActionOutcome.NOT_SENT, last, attempt))
                return ActionResult(
                    ok=False, outcome=ActionOutcome.NOT_SENT, records=tuple(records), detail=last.detail
                )
            if reason := self._blocked():
                last = _Attempt(ActionOutcome.NOT_SENT, None, "", f"not sent: {reason}")
                records.append(self._record(ticket, kind, request, ActionOutcome.NOT_SENT, last, attempt))
                return ActionResult(
                    ok=False, outcome=ActionOutcome.NOT_SENT, records=tuple(records), detail=last.detail
                )
            try:
                last = await self._send_once(request, verify)
            except TemporaryError as error:
                # the terminal went away with the request in flight: its fate is unknown until the terminal
                # is back and shows it; the attempts so far are journaled, nothing is sent again blindly
                last = _Attempt(ActionOutcome.UNKNOWN, None, "", f"no answer ({error}); outcome unknown")
                records.append(self._record(ticket, kind, request, ActionOutcome.UNKNOWN, last, attempt))
                return ActionResult(ok=False, outcome=ActionOutcome.UNKNOWN, records=tuple(records), detail=last.detail)
            final = last.outcome is not ActionOutcome.RETRYING or attempt == attempts
            outcome = last.outcome
            if last.outcome is ActionOutcome.RETRYING and attempt == attempts:
                outcome = ActionOutcome.FAILED
                last.detail = f"{last.detail}; gave up after {attempts} attempts"
            if last.hint is RetryHint.WAIT_PRICE_AWAY and outcome is ActionOutcome.RETRYING:
                final = True  # frozen: the next cycle tries again once price has moved away
            records.append(self._record(ticket, kind, request, outcome, last, attempt))
            if final:
                return ActionResult(
                    ok=outcome is ActionOutcome.SUCCESS,
                    outcome=outcome,
                    records=tuple(records),
                    retcode=last.retcode,
                    volume=last.volume,
                    price=last.price,
                    position=last.position,
                    detail=last.detail,
                )
            await self._sleep(self._backoff(attempt, last.hint))
        raise AssertionError("unreachable: the last attempt always returns")

    async def _send_once(self, request: dict[str, Any], verify: Callable[[], Awaitable[bool]]) -> _Attempt:
        answer = await self._gateway.order_send(request)
        code = answer.retcode if answer.result is not None else answer.error[0]
        if code in TERMINAL_REFUSALS:
            self._refused(int(code))
        if answer.result is None:
            code, message = answer.error
            if code in _ANSWER_MAY_BE_LOST:
                return await self._check_lost_answer(code, message, verify)
            return _Attempt(ActionOutcome.NOT_SENT, None, "", f"order_send refused locally: ({code}, {message})")
        result = answer.result
        retcode = int(result.retcode)
        comment = str(result.comment)
        klass = answer.klass
        if klass is RetcodeClass.SUCCESS:
            position = (
                int(result.order)
                if request.get("action") == mt5.TRADE_ACTION_DEAL and "position" not in request
                else None
            )
            return _Attempt(
                ActionOutcome.SUCCESS,
                retcode,
                comment,
                _describe(retcode, comment),
                price=float(result.price),
                volume=float(result.volume),
                position=position,
            )
        if klass is RetcodeClass.UNKNOWN_OUTCOME:
            if await verify():
                return _Attempt(
                    ActionOutcome.SUCCESS,
                    retcode,
                    comment,
                    f"{_describe(retcode, comment)}; the terminal shows it was done",
                )
            return _Attempt(
                ActionOutcome.RETRYING,
                retcode,
                comment,
                f"{_describe(retcode, comment)}; the terminal shows it was not done",
                hint=RetryHint.CHECK_OUTCOME,
            )
        if klass is RetcodeClass.TRANSIENT:
            return _Attempt(
                ActionOutcome.RETRYING, retcode, comment, _describe(retcode, comment), hint=retry_hint(retcode)
            )
        return _Attempt(ActionOutcome.FAILED, retcode, comment, _describe(retcode, comment))

    async def _check_lost_answer(self, code: int, message: str, verify: Callable[[], Awaitable[bool]]) -> _Attempt:
        """An IPC failure may have lost the answer of a request the server did execute: look before resending."""
        lost = f"order_send answer lost: ({code}, {message})"
        try:
            done = await verify()
        except TemporaryError:
            return _Attempt(ActionOutcome.UNKNOWN, None, "", f"{lost}; the terminal cannot be read, outcome unknown")
        if done:
            return _Attempt(ActionOutcome.SUCCESS, None, "", f"{lost}; the terminal shows it was done")
        return _Attempt(
            ActionOutcome.RETRYING,
            None,
            "",
            f"{lost}; the terminal shows it was not done",
            hint=RetryHint.CHECK_OUTCOME,
        )

    def _backoff(self, attempt: int, hint: RetryHint) -> float:
        delays = self._settings.retry_backoff_s
        delay = delays[min(attempt - 1, len(delays) - 1)]
        return 0.0 if hint is RetryHint.REFRESH_PRICE else delay

    def _record(
        self,
        ticket: int,
        kind: ActionKind,
        request: dict[str, Any],
        outcome: ActionOutcome,
        attempt: _Attempt,
        number: int,
    ) -> ActionRecord:
        return ActionRecord(
            ticket=ticket,
            kind=kind,
            request=dict(request),
            outcome=outcome,
            retcode=attempt.retcode,
            comment=attempt.comment,
            attempt=number,
            detail=attempt.detail,
            at=self._now(),
            wall_at=time.time(),
        )

    def _not_sent(self, ticket: int, kind: ActionKind, request: dict[str, Any], why: str) -> ActionResult:
        record = ActionRecord(
            ticket=ticket,
            kind=kind,
            request=request,
            outcome=ActionOutcome.NOT_SENT,
            detail=why,
            at=self._now(),
            wall_at=time.time(),
        )
        return ActionResult(ok=False, outcome=ActionOutcome.NOT_SENT, records=(record,), detail=why)


def _describe(retcode: int, comment: str) -> str:
    text = f"{retcode} {describe(retcode)}"
    return f"{text} ({comment})" if comment else text


def _with_position(result: ActionResult, position: int) -> ActionResult:
    return ActionResult(
        ok=result.ok,
        outcome=result.outcome,
        records=result.records,
        retcode=result.retcode,
        volume=result.volume,
        price=result.price,
        position=position,
        detail=result.detail,
    )
