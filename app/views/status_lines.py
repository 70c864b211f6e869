"""What needs the trader's attention, in words: paused management, tripped safety rails, a terminal that does
not answer, a degraded database. The banner turns amber and shows these lines; each says what it means for
the trades and what gets the program out of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from app.engine.rails import RailStatus

logger = logging.getLogger(__name__)

#: what each rail watches, as a trader says it (rails added later fall back to their name)
RAIL_WORDS: dict[str, str] = {
    "daily_loss": "daily loss",
    "hourly_loss": "hourly loss",
    "consecutive_stop_outs": "losing stop-outs",
    "spread": "wide spread",
    "stale_bars": "stale prices",
    "blackout": "blackout window",
}
#: how each rail clears by itself
RAIL_WAY_OUT: dict[str, str] = {
    "daily_loss": "clears at the start of the next terminal day or when the loss falls under the limit",
    "hourly_loss": "clears when the last hour's loss falls under the limit",
    "consecutive_stop_outs": "clears after a trade closes in profit",
    "spread": "clears when the spread is back near its median",
    "stale_bars": "clears when the terminal delivers new bars",
    "blackout": "clears when the window ends",
}


class Attention(StrEnum):
    PAUSED = "paused"
    RAIL = "rail"
    TERMINAL = "terminal"
    DATABASE = "database"
    SYMBOL = "symbol"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusLine:
    kind: Attention
    text: str


def rail_line(status: RailStatus) -> str:
    """``Hedges and re-adds blocked on every symbol: hourly loss 1.80 % of balance, limit 1 %. ...``"""
    name = RAIL_WORDS.get(status.rail.value, status.rail.value.replace("_", " "))
    detail = status.detail
    if detail.startswith("loss "):  # "loss 1.80 % of balance (limit 1 %)"
        what = f"{name} {detail.removeprefix('loss ').replace(' (limit ', ', limit ').removesuffix(')')}"
    else:
        what = f"{name}: {detail}" if detail else name
    scope = f"on {status.symbol}" if status.symbol else "on every symbol"
    way_out = RAIL_WAY_OUT.get(status.rail.value, "clears by itself when the condition ends")
    return f"Hedges and re-adds blocked {scope}: {what}. SL moves and closes go on; {way_out}."


def attention_lines(health: object, trades: int) -> list[StatusLine]:
    """The lines for an ``EngineHealth`` with ``trades`` managed trades, most pressing first."""
    lines: list[StatusLine] = []
    stall = getattr(health, "terminal_stall_s", None)
    if stall is not None:
        lines.append(
            StatusLine(
                kind=Attention.TERMINAL,
                text=(
                    f"Terminal not answering for {stall:.0f} s: DTMS cannot see prices or move SLs. "
                    f"Check that MetaTrader 5 "
                    "is running and responsive; DTMS restarts the connection by itself."
                ),
            )
        )
    problem = getattr(health, "database_problem", "")
    if problem:
        lines.append(
            StatusLine(
                kind=Attention.DATABASE,
                text=(
                    f"Database degraded: {problem}. Protection goes on and actions are kept in the fallback journal; "
                    "free disk space or restart DTMS."
                ),
            )
        )
    if getattr(health, "paused", False):
        noun = "trade" if trades == 1 else "trades"
        lines.append(
            StatusLine(
                kind=Attention.PAUSED,
                text=(
                    f"PAUSED: {trades} {noun} unprotected. DTMS moves no SL, closes and hedges nothing until you press "
                    "Resume."
                ),
            )
        )
    for status in getattr(health, "rails", ()):
        if status.tripped:
            lines.append(StatusLine(kind=Attention.RAIL, text=rail_line(status)))
    problems = getattr(health, "symbol_problems", {}) or {}
    if problems:
        names = ", ".join(sorted(problems))
        lines.append(
            StatusLine(
                kind=Attention.SYMBOL,
                text=(f"No prices for {names}: their trades wait, the others are protected (details in Health)."),
            )
        )
    return lines
