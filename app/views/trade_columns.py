"""The columns of the managed-trades table: their names, widths, alignment, the raw value of each for a
trade, the trader's words for an action, and which cells changed between two versions of a row."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from app.engine.model import Trade
from app.engine.registry import owner_name

logger = logging.getLogger(__name__)


class Column(IntEnum):
    TICKET = 0
    SYMBOL = 1
    DIRECTION = 2
    VOLUME = 3
    ENTRY = 4
    SL = 5
    TP = 6
    PRICE = 7
    PROFIT = 8
    PROFIT_R = 9
    STATE = 10
    SCORE = 11
    OWNER = 12
    BREAKEVEN = 13
    PARTIAL = 14
    LAST_ACTION = 15
    LAST_ACTION_AT = 16


HEADERS = (
    "Ticket",
    "Symbol",
    "Side",
    "Volume",
    "Entry",
    "SL",
    "TP",
    "Price",
    "Profit",
    "R",
    "State",
    "Score",
    "Owner",
    "BE",
    "Partial",
    "Last action",
    "At",
)
PRICE_COLUMNS = {Column.ENTRY, Column.SL, Column.TP, Column.PRICE}
_LEFT_COLUMNS = {Column.SYMBOL, Column.DIRECTION, Column.STATE, Column.OWNER, Column.LAST_ACTION}
#: what the filter finds a trade by
SEARCHED = (Column.TICKET, Column.SYMBOL, Column.DIRECTION, Column.STATE, Column.OWNER, Column.LAST_ACTION)
#: the columns each fast cycle's ``trade_updated`` rows carry (contiguous), by their field there
LIVE_FIELDS = ("price", "profit", "profit_r")
LIVE_COLUMNS = (Column.PRICE, Column.PROFIT, Column.PROFIT_R)
COLUMN_COUNT = len(Column)
HEADER_TIPS: dict[int, str] = {  # keyed by Column, read by section number
    Column.VOLUME: "Lots open now",
    Column.PROFIT: "Floating profit in account money (swap and commission included as MT5 reports them)",
    Column.PROFIT_R: "Profit in R: multiples of the trade's initial risk (entry to first SL)",
    Column.STATE: "DTMS's defensive state of the trade",
    Column.SCORE: "The deep check's weighted score (by default WARNING_L1 at -2, WARNING_L2 at -4, HEDGED at -6)",
    Column.OWNER: "Who registered the trade (a bot's strategy, or adopted)",
    Column.BREAKEVEN: "Breakeven taken",
    Column.PARTIAL: "Partial profit taken",
    Column.LAST_ACTION: "What DTMS last did to the trade and how MT5 answered",
    Column.LAST_ACTION_AT: "When, in terminal (server) time",
}
#: hidden until the trader shows them from the header's menu
DEFAULT_HIDDEN = frozenset(
    {
        Column.PRICE,
        Column.ENTRY,
        Column.SL,
        Column.TP,
        Column.OWNER,
        Column.BREAKEVEN,
        Column.PARTIAL,
        Column.LAST_ACTION_AT,
    }
)
#: columns drawn in a state's or a result's colour
COLOURED = frozenset({Column.STATE, Column.PROFIT, Column.PROFIT_R})
#: the widest text each column must show uncut
WIDEST: dict[int, str] = {
    Column.TICKET: "999999999",
    Column.SYMBOL: "EURUSD.m",
    Column.DIRECTION: "SELL",
    Column.VOLUME: "99.99",
    Column.PRICE: "99999.999",
    Column.PROFIT: "-99,999.99",
    Column.PROFIT_R: "-99.99",
    Column.STATE: "WARNING_L2",
    Column.SCORE: "-99.99",
    Column.LAST_ACTION: "Partial close failed",
    Column.LAST_ACTION_AT: "00:00:00",
}
_KIND_WORDS = {
    "BREAKEVEN": "Breakeven",
    "PARTIAL_TAKE": "Partial take",
    "TRAIL": "Trail",
    "TIGHTEN": "Tighten SL",
    "PARTIAL_CLOSE": "Partial close",
    "HEDGE": "Hedge",
    "CLOSE_HEDGE": "Close hedge",
    "CLOSE": "Close",
    "READD": "Re-add",
    "EXTERNAL_CHANGE": "Changed in MT5",
}
_OUTCOME_WORDS = {
    "SUCCESS": "done",
    "RETRYING": "retry",
    "FAILED": "failed",
    "UNKNOWN": "unsure",
    "NOT_SENT": "not sent",
}


def action_words(last_action: str) -> str:
    """``"PARTIAL_CLOSE SUCCESS"`` as a trader reads it: ``"Partial close done"``."""
    kind, _, outcome = last_action.partition(" ")
    if kind == "EXTERNAL_CHANGE":
        return _KIND_WORDS[kind]
    if kind == "BREAKEVEN" and outcome == "NOT_SENT":  # reached, the SL already past it: nothing to send
        return "Breakeven reached"
    words = _KIND_WORDS.get(kind, kind)
    return f"{words} {_OUTCOME_WORDS.get(outcome, outcome.lower())}".strip()


ALIGNMENT = tuple(
    int(
        (Qt.AlignmentFlag.AlignLeft if c in _LEFT_COLUMNS else Qt.AlignmentFlag.AlignRight)
        | Qt.AlignmentFlag.AlignVCenter
    )
    for c in Column
)


def terminal_time_text(at: float | None) -> str:
    """Terminal (server) time as HH:MM:SS."""
    if not at:
        return ""
    return datetime.fromtimestamp(at, tz=UTC).strftime("%H:%M:%S")


def row_values(trade: Trade, live: dict[str, float] | None = None) -> tuple[Any, ...]:
    """The raw value of every column for one trade, in Column order."""
    return (
        trade.ticket,
        trade.symbol,
        trade.direction.value,
        trade.volume,
        trade.entry,
        trade.sl,
        trade.tp,
        live.get("price") if live else None,
        live.get("profit") if live else None,
        live.get("profit_r") if live else None,
        trade.state.value,
        trade.score,
        owner_name(trade.managed_by),
        trade.breakeven_triggered,
        trade.partial_taken,
        trade.last_action or "",
        trade.last_action_at,
    )


def changed_ranges(old: tuple[Any, ...], new: tuple[Any, ...]) -> list[tuple[int, int]]:
    """Contiguous (first, last) column ranges whose values differ."""
    ranges: list[tuple[int, int]] = []
    for column, (a, b) in enumerate(zip(old, new, strict=True)):
        if a == b:
            continue
        if ranges and ranges[-1][1] == column - 1:
            ranges[-1] = (ranges[-1][0], column)
        else:
            ranges.append((column, column))
    return ranges


def changed_blocks(rows: list[tuple[int, list[tuple[int, int]]]]) -> list[tuple[int, int, int, int]]:
    """Rectangles (top, bottom, first column, last column) to signal for each changed row's column ranges:
    one per distinct column range, from the first to the last row where it changed. Rows between them that
    did not change are included (repainting a cell costs less than a signal: a price tick changes the same
    columns of most rows, which this makes one or two signals rather than hundreds)."""
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for row, ranges in rows:
        for columns in ranges:
            top, _bottom = spans.get(columns, (row, row))
            spans[columns] = (top, row)
    return [(top, bottom, *columns) for columns, (top, bottom) in spans.items()]


def search_text(values: tuple[Any, ...]) -> str:
    """What the filter finds a trade by (ticket, symbol, side, state, owner, last action), lower-cased. Live
    prices are not searched: rows would come and go with the market."""
    return " ".join(str(values[c]) for c in SEARCHED).lower()
