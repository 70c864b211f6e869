"""The nested objects of the earlier DTMS server's answers, which bots, exit managers, dashboards and
diagnostics scripts written against it read (``app.api.schemas`` puts them next to our own fields).

Names, types and meanings are the earlier server's. Timestamps documented as ISO are strings that
``datetime.fromisoformat`` parses. This module imports nothing of the application.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

#: the owner name the earlier bots compare ``managed_by`` with for DTMS's own trades
DTMS_OWNER = "dtms_manager"


def iso(epoch_s: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 string in UTC (None stays None)."""
    if epoch_s is None:
        return None
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="seconds")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class DtmsStatusInfo(BaseModel):
    """``GET /dtms/status`` → ``dtms_status``."""

    system_active: bool = Field(description="monitoring runs")
    uptime: str = Field(description="how long the endpoint has been up, in words (e.g. '2h 05m 10s')")
    active_trades: int
    trades_by_state: dict[str, int] = Field(default_factory=dict, description="state name -> trades in it")
    performance: dict[str, Any] = Field(default_factory=dict, description="cycles, cycle errors, actions")
    last_check: str = Field(description="the last fast check (ISO, terminal time), or 'never'")


class EarlierTradeInfo(BaseModel):
    """``GET /dtms/trade/{ticket}`` → ``trade_info``."""

    ticket: int
    symbol: str
    state: str = Field(description="the DTMS state name")
    current_score: float
    state_entry_time: str = Field(description="when the trade entered its state (ISO, terminal time)")
    warnings: dict[str, Any] = Field(default_factory=dict, description="count and the last warning's time")
    actions_taken: list[dict[str, Any]] = Field(default_factory=list, description="the trade's actions, newest first")
    performance: dict[str, Any] = Field(default_factory=dict, description="R, profit in R, protection steps")
    type: Literal["BUY", "SELL"]
    volume: float
    open_price: float
    current_price: float = Field(description="the price the position would close at now (0 when unknown)")
    profit: float = Field(description="floating (or final) profit in the account currency")
    sl: float
    tp: float
    protection_active: bool = Field(description="DTMS protects this trade now")


class ActionHistoryItem(BaseModel):
    """``GET /dtms/actions`` → ``action_history[]``."""

    action_type: str
    ticket: int
    symbol: str
    success: bool = Field(description="the action's real outcome (MT5 retcode judged)")
    timestamp: str = Field(description="ISO, wall clock")
    details: dict[str, Any] = Field(default_factory=dict)


class EngineInfo(BaseModel):
    """``GET /dtms/engine`` → ``engine_info``."""

    monitoring_active: bool
    active_trades_count: int
    last_fast_check: str | None = Field(default=None, description="ISO, terminal time; null before the first")
    last_deep_check: str | None = Field(default=None, description="ISO, terminal time; null before the first")


class EngineResponse(BaseModel):
    """``GET /dtms/engine``: the engine in the earlier server's words."""

    success: bool = True
    summary: str
    engine_info: EngineInfo
    state: str = Field(description="the engine's lifecycle state")


class RootResponse(BaseModel):
    """``GET /``: who answers, and where the documentation is."""

    message: str = "DTMS Desk"
    version: str
    status: Literal["running"] = "running"
    timestamp: str = Field(description="ISO, wall clock")
    docs: str = "/docs"
    redoc: str = "/redoc"
    openapi: str = "/openapi.json"
