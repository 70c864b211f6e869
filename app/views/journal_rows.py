"""The action journal of one trade as a trader reads it: per action the reason, the old -> new value, the
volume and price sent, and MT5's answer in words; and the trade's SL/TP history as steps for the chart.

Worked out from the stored journal and transitions (oldest first), without asking the engine anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Trade, Transition
from app.engine.prices import price_text
from app.terminal import constants as mt5
from app.terminal.retcodes import describe

#: journal kinds DTMS sends on its own (the trader's actions say so in their detail)
SL_KINDS = frozenset({ActionKind.BREAKEVEN, ActionKind.TRAIL, ActionKind.TIGHTEN})


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalRow:
    at: float
    kind: str
    outcome: str
    reason: str
    change: str  # "SL 1.08500 -> 1.08720", "volume 1 -> 0.5"
    order: str  # "0.5 lots SELL at 1.08950" (what was sent)
    mt5: str  # MT5's answer in words, or why nothing was sent
    attempt: int
    ok: bool
    price: float | None  # where the chart marks it


def mt5_text(record: ActionRecord) -> str:
    if record.retcode is not None:
        text = f"{record.retcode} {describe(record.retcode)}"
        return f"{text} ({record.comment})" if record.comment and record.comment not in text else text
    return record.detail or "not sent"


def _reason(record: ActionRecord, transitions: list[Transition], mt5_words: str) -> str:
    # protection and the trader's actions journal "reason; MT5 detail"; the defence's reason is its transition's
    head = record.detail.split("; ")[0] if record.detail else ""
    if head and not head[:5].isdigit() and head not in mt5_words and not head.startswith("not sent"):
        return head
    near = [t for t in transitions if abs(t.at - record.at) <= 1.0]
    if near:
        return f"{near[-1].from_state.value} -> {near[-1].to_state.value}: {near[-1].reason}"
    return ""


def journal_rows(
    trade: Trade, records: list[ActionRecord], transitions: list[Transition], digits: int | None = None
) -> list[JournalRow]:
    """Rows oldest first; SL and volume are followed through the journal to give each change its old value.
    Prices are at the symbol's ``digits`` (None: not known)."""
    sl = trade.initial_sl
    volume = trade.initial_volume or trade.volume
    rows: list[JournalRow] = []
    for record in sorted(records, key=lambda r: (r.at, r.id or 0)):
        request = record.request or {}
        ok = record.outcome is ActionOutcome.SUCCESS
        change = order = ""
        price: float | None = None
        if request.get("action") == mt5.TRADE_ACTION_SLTP:
            new_sl = float(request.get("sl", 0.0))
            change = f"SL {price_text(sl, digits)} -> {price_text(new_sl, digits)}"
            price = new_sl
            if ok:
                sl = new_sl
        elif request.get("action") == mt5.TRADE_ACTION_DEAL:
            lots = float(request.get("volume", 0.0))
            side = "BUY" if request.get("type") == mt5.ORDER_TYPE_BUY else "SELL"
            price = float(request.get("price", 0.0)) or None
            order = f"{lots:g} lots {side}" + (f" at {price_text(price, digits)}" if price else "")
            own = request.get("position") in (None, trade.ticket) and "comment" not in request
            if own and record.kind is not ActionKind.READD:
                change = f"volume {volume:g} -> {max(0.0, volume - lots):g}"
                if ok:
                    volume = round(max(0.0, volume - lots), 8)
        elif record.kind is ActionKind.EXTERNAL_CHANGE:
            change = record.detail.removeprefix("changed outside DTMS: ")
            for part in change.split(", "):
                name, _, values = part.partition(" ")
                new = values.split(" -> ")[-1] if " -> " in values else ""
                try:
                    if name == "sl":
                        sl = float(new)
                    elif name == "volume":
                        volume = float(new)
                except ValueError:
                    pass
        words = mt5_text(record)
        rows.append(
            JournalRow(
                at=record.at,
                kind=record.kind.value,
                outcome=record.outcome.value,
                reason=_reason(record, transitions, words),
                change=change,
                order=order,
                mt5=words,
                attempt=record.attempt,
                ok=ok,
                price=price,
            )
        )
    return rows


def sl_tp_steps(
    trade: Trade, records: list[ActionRecord], start: float, end: float
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(time, level) points of the SL and TP over time, drawn as steps: each change holds until the next."""
    changes = [
        r
        for r in sorted(records, key=lambda r: (r.at, r.id or 0))
        if r.outcome is ActionOutcome.SUCCESS and (r.request or {}).get("action") == mt5.TRADE_ACTION_SLTP
    ]
    first_tp = float(changes[0].request.get("tp", trade.tp)) if changes else trade.tp
    sl_points = [(start, trade.initial_sl or trade.sl)]
    tp_points = [(start, first_tp)]
    for record in changes:
        at = max(record.at, start)
        new_sl, new_tp = float(record.request.get("sl", 0.0)), float(record.request.get("tp", 0.0))
        sl_points += [(at, sl_points[-1][1]), (at, new_sl)]
        tp_points += [(at, tp_points[-1][1]), (at, new_tp)]
    for points, now in ((sl_points, trade.sl), (tp_points, trade.tp)):
        last = points[-1][1]
        points.append((end, last))
        if abs(now - last) > 1e-12:  # changed outside DTMS: the level the terminal shows now
            points.append((end, now))
    return sl_points, tp_points
