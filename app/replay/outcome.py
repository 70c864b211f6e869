"""Each replayed trade's two outcomes, read from the simulated broker's deals and the engine's journal.

Profit is the sum of the deals' profit, commission, swap and fee: for the managed side over the position and
any hedge or re-add DTMS opened for it (comments ``DTMS_HEDGE_<ticket>``, ``DTMS_READD_<ticket>``). R is that
money over the trade's initial risk in money (``|entry - SL|`` at the full volume). MAE in R is the worst
adverse price excursion (bid for a BUY, ask for a SELL, from the replayed M1 bars) between the open and that
side's exit, over the initial risk; it is zero or negative.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.engine.model import (
    ActionKind,
    ActionOutcome,
    ActionRecord,
    Direction,
    Transition,
)
from app.terminal import constants as c

if TYPE_CHECKING:
    from app.engine.engine import Engine
    from app.replay.runner import _Open
    from app.replay.timeline import Timeline
    from app.terminal.sim.symbols import SymbolSpec

logger = logging.getLogger(__name__)

_EXIT_REASONS = {c.DEAL_REASON_SL: "sl", c.DEAL_REASON_TP: "tp"}


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeResult:
    trade_id: int
    symbol: str
    direction: str
    open_time: float  # data time
    entry: float
    volume: float
    sl: float
    tp: float
    unmanaged_exit_time: float
    unmanaged_exit_price: float
    unmanaged_exit_reason: str  # sl, tp or end
    unmanaged_profit: float
    unmanaged_r: float
    managed_exit_time: float
    managed_profit: float
    managed_r: float
    unmanaged_mae_r: float
    managed_mae_r: float
    actions: str
    final_state: str
    ticket: int


def _money(deals: list[Any]) -> float:
    return round(sum(d.profit + d.commission + d.swap + d.fee for d in deals), 2)


def action_summary(records: list[ActionRecord]) -> str:
    """Successful actions in order, repeats counted: ``BREAKEVEN PARTIAL_TAKE TRAILx3``."""
    kinds = [
        r.kind.value for r in sorted(records, key=lambda r: (r.at, r.id or 0)) if r.outcome is ActionOutcome.SUCCESS
    ]
    out: list[list[Any]] = []
    for kind in kinds:
        if out and out[-1][0] == kind:
            out[-1][1] += 1
        else:
            out.append([kind, 1])
    return " ".join(k if n == 1 else f"{k}x{n}" for k, n in out)


def _mae(
    terminal: Any, symbol: str, direction: Direction, entry: float, opened: float, closed: float, point: float
) -> float:
    rates = terminal.copy_rates_range(symbol, c.TIMEFRAME_M1, int(opened // 60 * 60), int(max(opened, closed)))
    if rates is None or len(rates) == 0:
        return 0.0
    if direction is Direction.BUY:
        return min(0.0, float(np.min(rates["low"])) - entry)
    return min(0.0, entry - float(np.max(rates["high"] + rates["spread"] * point)))


@dataclass(frozen=True, slots=True)
class JournalLine:
    at: float  # data time
    what: str  # ACTION or STATE
    text: str


def _action_text(record: ActionRecord) -> str:
    """``TRAIL SUCCESS sl 1.10234``; what was refused or failed keeps its reason."""
    request = record.request or {}
    text = f"{record.kind.value} {record.outcome.value}"
    if request.get("sl") and record.kind in (ActionKind.BREAKEVEN, ActionKind.TRAIL, ActionKind.TIGHTEN):
        text += f" sl {request['sl']}"
    elif request.get("volume"):
        text += f" volume {request['volume']}"
    if record.outcome is not ActionOutcome.SUCCESS:
        text += (f" {record.retcode}" if record.retcode else "") + (f": {record.detail}" if record.detail else "")
    return text


def journal_lines(records: list[ActionRecord], moves: list[Transition], timeline: Timeline) -> list[JournalLine]:
    """A trade's journal (actions with their real outcome, and state transitions) on the data's clock."""
    lines = [JournalLine(timeline.to_data(r.at), "ACTION", _action_text(r)) for r in records]
    lines += [
        JournalLine(
            timeline.to_data(m.at),
            "STATE",
            f"{m.from_state.value} -> {m.to_state.value} (score {m.score:+.1f}): {m.reason}",
        )
        for m in moves
    ]
    return sorted(lines, key=lambda line: (line.at, line.what))


async def collect(
    terminal: Any, engine: Engine, timeline: Timeline, opened: list[_Open], specs: dict[str, SymbolSpec]
) -> tuple[list[TradeResult], dict[int, list[JournalLine]], dict[int, list[ActionRecord]]]:
    deals = terminal.history_deals_get(0, 2**31 - 1) or ()
    by_position: dict[int, list[Any]] = defaultdict(list)
    for deal in deals:
        by_position[int(deal.position_id)].append(deal)
    extra: dict[int, list[int]] = defaultdict(list)  # managed ticket -> hedge and re-add positions
    for position, group in by_position.items():
        for deal in group:
            if deal.entry == c.DEAL_ENTRY_IN and deal.comment.startswith(("DTMS_HEDGE_", "DTMS_READD_")):
                extra[int(deal.comment.rsplit("_", 1)[1])].append(position)
    results: list[TradeResult] = []
    journals: dict[int, list[JournalLine]] = {}
    actions: dict[int, list[ActionRecord]] = {}
    for item in opened:
        t = item.trade
        spec = specs[t.symbol]
        main = sorted(by_position[item.ticket], key=lambda d: d.time_msc)
        twin = sorted(by_position[item.twin], key=lambda d: d.time_msc)
        group = main + [d for p in extra[item.ticket] for d in by_position[p]]
        entry = float(main[0].price)
        risk_price = abs(entry - t.sl) if t.sl else 0.0
        risk_money = risk_price / spec.trade_tick_size * spec.trade_tick_value * t.volume
        exits = [d for d in twin if d.entry != c.DEAL_ENTRY_IN]
        last_twin = exits[-1] if exits else twin[-1]
        managed_end = max(d.time_msc for d in group) / 1000.0
        twin_end = last_twin.time_msc / 1000.0
        opened_at = main[0].time_msc / 1000.0
        unmanaged, managed = _money(twin), _money(group)
        records = sorted(await engine.journal(item.ticket, limit=10_000), key=lambda r: (r.at, r.id or 0))
        actions[t.trade_id] = records
        journals[t.trade_id] = journal_lines(records, await engine.transitions(item.ticket), timeline)
        stored = await engine.find_trade(item.ticket)

        def in_r(value: float, risk: float = risk_money) -> float:
            return round(value / risk, 4) if risk > 0 else 0.0

        def mae_r(until: float, risk: float = risk_price) -> float:
            return in_r(_mae(terminal, t.symbol, t.direction, entry, opened_at, until, spec.point), risk)  # noqa: B023

        results.append(TradeResult(
            trade_id=t.trade_id, symbol=t.symbol, direction=t.direction.value,
            open_time=timeline.to_data(opened_at), entry=entry, volume=t.volume, sl=t.sl, tp=t.tp,
            unmanaged_exit_time=timeline.to_data(twin_end), unmanaged_exit_price=float(last_twin.price),
            unmanaged_exit_reason=_EXIT_REASONS.get(int(last_twin.reason), "end"),
            unmanaged_profit=unmanaged, unmanaged_r=in_r(unmanaged),
            managed_exit_time=timeline.to_data(managed_end), managed_profit=managed, managed_r=in_r(managed),
            unmanaged_mae_r=mae_r(twin_end), managed_mae_r=mae_r(managed_end),
            actions=action_summary(records), final_state=stored.state.value if stored is not None else "",
            ticket=item.ticket,
        ))  # fmt: skip
    return results, journals, actions
