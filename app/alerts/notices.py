"""Which engine events deserve a notification, how serious they are, and what they say in a trader's words.

Each notice names its trade (ticket, symbol, side) and says what was done: the volume, price, money and R of
a close, the SL old -> new of a move, the reason and the trade's state; a failure gives MT5's answer in words
and what DTMS does next. Pure Python: the window, the tray, the sounds and the phone push all read these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from app.engine.events import EngineEvent, EventKind
from app.engine.prices import price_text
from app.terminal.retcodes import describe


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    ACTION_FAILED = 2
    CRITICAL = 2  # the same level: an action failed or the terminal is lost

    @property
    def label(self) -> str:
        return {0: "info", 1: "warning", 2: "action failed"}[int(self)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    title: str
    message: str
    severity: Severity = Severity.INFO
    ticket: int | None = None
    grouped: int = 1  # how many events this notice stands for
    tickets: tuple[int, ...] = ()  # every trade a grouped notice names


_DONE = {
    "BREAKEVEN": "SL moved to breakeven",
    "TRAIL": "SL trailed",
    "TIGHTEN": "SL tightened",
    "PARTIAL_TAKE": "partial profit taken",
    "PARTIAL_CLOSE": "part of the position closed",
    "HEDGE": "hedge opened",
    "CLOSE_HEDGE": "hedge closed",
    "CLOSE": "trade closed",
    "READD": "volume re-added",
}
_NAMES = {
    "BREAKEVEN": "breakeven",
    "TRAIL": "trailing stop",
    "TIGHTEN": "SL tighten",
    "PARTIAL_TAKE": "partial take",
    "PARTIAL_CLOSE": "partial close",
    "HEDGE": "hedge",
    "CLOSE_HEDGE": "hedge close",
    "CLOSE": "close",
    "READD": "re-add",
}
_RAIL_NAMES = {
    "daily_loss": "daily loss",
    "hourly_loss": "hourly loss",
    "consecutive_stop_outs": "stop-outs in a row",
    "spread": "spread",
    "stale_bars": "stale bars",
    "blackout": "blackout window",
    "trading_permission": "trading not allowed",
    "broker_link": "broker link lost",
}
_SOURCES = {
    "REGISTERED": "handed over by a bot or the trader",
    "ADOPTED": "found open in the terminal and adopted",
    "REBUILT": "taken over again from the terminal",
}
_STATE_SEVERITY = {"WARNING_L1": Severity.WARNING, "WARNING_L2": Severity.WARNING, "HEDGED": Severity.WARNING}
_STATE_WORDS = {
    "HEALTHY": "healthy again",
    "WARNING_L1": "warning level 1",
    "WARNING_L2": "warning level 2",
    "HEDGED": "hedged",
    "RECOVERING": "recovering",
    "CLOSED": "closed by DTMS",
}


def trade_label(p: dict[str, Any]) -> str:
    """``#123 EURUSD BUY``: the trade a notice is about."""
    return " ".join(str(x) for x in (f"#{p.get('ticket')}", p.get("symbol"), p.get("direction")) if x)


#: a symbol's price digits (None: not known)
Digits = Callable[[str], int | None]


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _price(value: Any, digits: int | None) -> str:
    return price_text(value, digits) if isinstance(value, (int, float)) else str(value)


def _money(value: Any) -> str:
    return f"{value:+z,.2f}" if isinstance(value, (int, float)) else ""


def _r(value: Any) -> str:
    return f"{value:+z.2f} R" if isinstance(value, (int, float)) else ""


def mt5_words(p: dict[str, Any]) -> str:
    """MT5's answer in words (``10016 invalid stops (SL/TP)``), or the reason it was never sent."""
    retcode = p.get("retcode")
    if isinstance(retcode, int):
        return f"MT5 answered {retcode}: {describe(retcode)}"
    return str(p.get("mt5") or p.get("detail") or "no answer from MT5")


def what_was_done(p: dict[str, Any], digits: int | None = None) -> str:
    """One action's figures: ``closed 0.5 lots at 1.08950 (+245.00, +1.52 R); 0.5 lots left`` or
    ``SL 1.08500 -> 1.08720``, prices at the symbol's ``digits``."""
    kind = p.get("kind")
    parts: list[str] = []
    if kind in ("PARTIAL_TAKE", "PARTIAL_CLOSE", "CLOSE", "CLOSE_HEDGE", "HEDGE", "READD"):
        verb = {"HEDGE": "opened", "READD": "added"}.get(str(kind), "closed")
        side = f" {p['side']}" if p.get("side") else ""
        text = f"{verb} {_num(p.get('volume', '?'))} lots{side}"
        if p.get("price"):
            text += f" at {_price(p['price'], digits)}"
        if verb != "closed" and p.get("sl_new"):
            text += f" with SL {_price(p['sl_new'], digits)}"
        figures = ", ".join(x for x in (_money(p.get("money")), _r(p.get("r"))) if x)
        if figures and verb == "closed":
            text += f" ({figures})"
        if p.get("volume_left") is not None and kind in ("PARTIAL_TAKE", "PARTIAL_CLOSE"):
            text += f"; {_num(p['volume_left'])} lots left"
        parts.append(text)
    if p.get("sl_new") and ("sl_old" in p or kind in ("BREAKEVEN", "TRAIL", "TIGHTEN")):
        parts.append(f"SL {_price(p.get('sl_old') or 'none', digits)} -> {_price(p['sl_new'], digits)}")
    return "; ".join(parts)


class NoticePolicy:
    """Turns events into notices; remembers whether the terminal was lost, to announce its return once.
    ``digits`` gives a symbol's price digits, at which the notices say prices."""

    def __init__(self, digits: Digits | None = None) -> None:
        self._lost = False
        self._digits = digits

    def _digits_of(self, p: dict[str, Any]) -> int | None:
        symbol = p.get("symbol")
        return self._digits(str(symbol)) if self._digits is not None and symbol else None

    def notice_for(self, event: EngineEvent) -> Notice | None:
        p = event.payload
        ticket = p.get("ticket")
        match event.kind:
            case EventKind.TRADE_REGISTERED:
                how = _SOURCES.get(str(p.get("source")), "registered")
                owner = p.get("managed_by") or "DTMS"
                whose = "protected by DTMS" if owner == "DTMS" else f"watched for {owner} (DTMS does not act on it)"
                return Notice(
                    title=f"{trade_label(p)}: now {'protected' if owner == 'DTMS' else 'watched'}",
                    ticket=ticket,
                    message=f"{_num(p.get('volume', ''))} lots at {_price(p.get('entry', ''), self._digits_of(p))}, "
                    f"{how}; {whose}",
                )
            case EventKind.ACTION:
                return self._action(p)
            case EventKind.STATE_CHANGED:
                return self._transition(p)
            case EventKind.TRADE_CLOSED:
                price = f" at {_price(p['price'], self._digits_of(p))}" if p.get("price") else ""
                money = f", result {_money(p['profit'])}" if isinstance(p.get("profit"), (int, float)) else ""
                return Notice(
                    title=f"{trade_label(p)}: closed",
                    ticket=ticket,
                    message=f"{p.get('reason') or 'position closed'}{price}{money}",
                )
            case EventKind.LIFECYCLE:
                return self._lifecycle(p)
            case EventKind.RAIL if p.get("tripped"):
                where = f" ({p['symbol']})" if p.get("symbol") else ""
                title = f"Safety rail: {_RAIL_NAMES.get(str(p.get('rail')), p.get('rail'))}{where}"
                if p.get("blocks_sending") or p.get("critical"):
                    # trading refused by the terminal or no link to the server: nothing at all is protected
                    return Notice(
                        title=title,
                        severity=Severity.CRITICAL,
                        message=f"{p.get('detail') or ''}; DTMS sends nothing until it clears",
                    )
                return Notice(
                    title=title,
                    severity=Severity.WARNING,
                    message=f"{p.get('detail') or ''}; hedges and re-adds are blocked until it clears "
                    "(SL moves and closes go on)",
                )
            case EventKind.DATABASE_RECOVERED:
                return Notice(title="Database recovered", severity=Severity.WARNING, message=str(p.get("detail", "")))
        return None

    def _action(self, p: dict[str, Any]) -> Notice | None:
        kind, outcome = str(p.get("kind")), p.get("outcome")
        if kind not in _DONE:
            return None
        label = trade_label(p)
        reason = f" Reason: {p['reason']}." if p.get("reason") else ""
        state = f" State {p['state']}." if p.get("state") else ""
        figures = what_was_done(p, self._digits_of(p))
        if outcome == "SUCCESS":
            if p.get("transition"):
                return None  # told with its transition, in one notice
            title = f"{label}: {_DONE[kind]}" + (" (your order)" if p.get("manual") else "")
            return Notice(
                title=title,
                ticket=p.get("ticket"),
                message=f"{figures[:1].upper()}{figures[1:]}.{reason}{state}".strip(),
            )
        if outcome in ("FAILED", "UNKNOWN") or (outcome == "NOT_SENT" and not p.get("transition")):
            verb = {"FAILED": "failed", "UNKNOWN": "outcome unknown", "NOT_SENT": "not sent"}[str(outcome)]
            meant = f" Meant: {figures}." if figures else ""
            nxt = f" Next: {p['next']}." if p.get("next") else ""
            severity = Severity.ACTION_FAILED if outcome == "FAILED" else Severity.WARNING
            return Notice(
                title=f"{label}: {_NAMES[kind]} {verb}",
                severity=severity,
                ticket=p.get("ticket"),
                message=f"{mt5_words(p)}.{meant}{reason}{nxt}",
            )
        return None

    def _transition(self, p: dict[str, Any]) -> Notice | None:
        to = str(p.get("to"))
        digits = self._digits_of(p)
        done: list[str] = []
        failed = False
        for action in p.get("actions") or ():
            figures = what_was_done(action, digits)
            name = _DONE.get(str(action.get("kind")), str(action.get("kind")))
            if action.get("outcome") == "SUCCESS":
                done.append(f"{name}: {figures}" if figures else name)
            else:
                failed = failed or action.get("outcome") == "FAILED"
                why = mt5_words(action) if action.get("outcome") == "FAILED" else action.get("detail", "")
                done.append(f"{_NAMES.get(str(action.get('kind')), name)} {str(action.get('outcome')).lower()} ({why})")
        reason = str(p.get("reason") or "")
        told = "score" in reason  # the reason names the score already ("score -2.5 <= -2")
        score = f" (score {p['score']:+z.2f})" if isinstance(p.get("score"), (int, float)) and not told else ""
        message = f"{p.get('from')} -> {to}{score}: {reason}."
        if done:
            message += " " + "; ".join(done) + "."
        severity = Severity.ACTION_FAILED if failed else _STATE_SEVERITY.get(to, Severity.INFO)
        return Notice(
            title=f"{trade_label(p)}: {_STATE_WORDS.get(to, to)}",
            severity=severity,
            ticket=p.get("ticket"),
            message=message,
        )

    def _lifecycle(self, p: dict[str, Any]) -> Notice | None:
        state = p.get("state")
        if state == "DISCONNECTED" and not self._lost:
            self._lost = True
            return Notice(
                title="Terminal lost",
                severity=Severity.CRITICAL,
                message=f"no trade is protected until it is back; reconnecting: {p.get('reason') or 'no answer'}",
            )
        if state == "READY" and self._lost:
            self._lost = False
            return Notice(
                title="Terminal back", message=f"connected again (connection {p.get('epoch')}); protection goes on"
            )
        if state == "FAILED":
            return Notice(title="Initialisation failed", severity=Severity.CRITICAL, message=str(p.get("reason", "")))
        return None


def group(held: list[Notice]) -> Notice:
    """Several notices as one that still names every trade: the most serious first, one line each."""
    if len(held) == 1:
        return held[0]
    ordered = sorted(held, key=lambda n: -n.severity)
    lead = ordered[0]
    more = len(held) - 1
    tickets = tuple(dict.fromkeys(n.ticket for n in ordered if n.ticket is not None))
    lines = "\n".join(f"{n.title}: {n.message}" for n in ordered)
    return Notice(
        title=f"{lead.title} and {more} more event{'s' if more > 1 else ''}",
        message=lines,
        severity=lead.severity,
        ticket=lead.ticket,
        grouped=len(held),
        tickets=tickets,
    )
