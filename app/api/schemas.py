"""Every body the HTTP endpoint takes or gives, as pydantic models (the contract bots are written against).

Requests are lenient where existing bots differ (``direction`` in any case, ``entry_price`` for ``entry``,
``sl``/``tp`` for ``stop_loss``/``take_profit``, ``0`` or null for "no level", unknown keys ignored) and strict
where a value would be wrong (booleans, NaN, infinities, negative prices, over-long MT5 strings).

This module imports nothing of the application: the bot-side client (``app.client``) uses it on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.api.schemas_earlier import (
    DTMS_OWNER,
    ActionHistoryItem,
    DtmsStatusInfo,
    EarlierTradeInfo,
)

MAX_INT64 = 2**63 - 1
MT5_STRING_MAX = 29  # MT5 rejects longer symbol and comment strings

DirectionName = Literal["BUY", "SELL"]
DefensiveStateName = Literal["HEALTHY", "WARNING_L1", "WARNING_L2", "HEDGED", "RECOVERING", "CLOSED"]
LifecycleStateName = Literal["STARTING", "CONNECTING", "RECOVERING", "READY", "DISCONNECTED", "FAILED", "STOPPED"]
HealthStatus = Literal["healthy", "unhealthy", "degraded"]  # the earlier server's words
Readiness = Literal["healthy", "not_ready", "error"]


class ErrorCode(StrEnum):
    """The short machine codes carried in ``ErrorResponse.error``."""

    VALIDATION = "validation_error"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    NOT_READY = "not_ready"
    NOT_MANAGED = "not_managed"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    SIMULATOR_ONLY = "simulator_only"
    INTERNAL = "internal_error"
    MALFORMED_JSON = "malformed_json"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNAVAILABLE = "terminal_unavailable"
    REJECTED = "rejected"


def _not_bool(value: Any) -> Any:
    # JSON true/false would otherwise pass as 1/0 for an int or a float field.
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


Ticket = Annotated[int, Field(gt=0, le=MAX_INT64), BeforeValidator(_not_bool)]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MT5_STRING_MAX)]
Price = Annotated[float | None, BeforeValidator(_not_bool)]

_REQUEST_CONFIG = ConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True)
_ALIASES = (("entry", "entry_price"), ("stop_loss", "sl"), ("take_profit", "tp"))


# --- requests -------------------------------------------------------------------------------------------


class EnableTradeRequest(BaseModel):
    """``POST /dtms/trade/enable``: hand an open position to DTMS. MT5's position supplies the truth;
    these values are kept beside it and checked against it (symbol and direction must agree).

    After validation: ``direction`` is upper case, a level of 0 is ``None`` (no level), an ``entry`` of 0 is
    ``None`` (unknown fill price), and every number is finite and not negative.
    """

    model_config = _REQUEST_CONFIG

    ticket: Ticket
    symbol: Symbol
    direction: DirectionName
    entry: Price = Field(default=None, validation_alias=AliasChoices("entry", "entry_price"))
    volume: Price = None
    stop_loss: Price = Field(default=None, validation_alias=AliasChoices("stop_loss", "sl"))
    take_profit: Price = Field(default=None, validation_alias=AliasChoices("take_profit", "tp"))
    strategy_type: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    magic: Annotated[int, Field(ge=0, le=MAX_INT64), BeforeValidator(_not_bool)] | None = None
    comment: Annotated[str, StringConstraints(max_length=MT5_STRING_MAX)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _alias_fills_a_null(cls, data: Any) -> Any:
        # {"entry": null, "entry_price": 1.08}: the value that was given wins over the null.
        if isinstance(data, Mapping):
            for name, alias in _ALIASES:
                if name in data and data[name] is None and data.get(alias) is not None:
                    data = {**data, name: data[alias]}
        return data

    @field_validator("direction", mode="before")
    @classmethod
    def _direction_any_case(cls, value: Any) -> Any:
        # ASCII only: Unicode case mapping turns "ſell" (long s) into "SELL"
        return value.strip().upper() if isinstance(value, str) and value.isascii() else value

    @field_validator("entry", "volume", "stop_loss", "take_profit")
    @classmethod
    def _finite_not_negative(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"must be a finite number >= 0, got {value!r}")
        if value == 0:
            if info.field_name == "volume":
                raise ValueError("must be greater than 0 when given")
            return None  # MT5's convention: 0 means no level / unknown
        return value

    @field_validator("strategy_type")
    @classmethod
    def _blank_strategy_is_none(cls, value: str | None) -> str | None:
        return value or None


class DisableTradeRequest(BaseModel):
    """``POST /dtms/trade/disable``: stop managing a trade (its history is kept)."""

    model_config = _REQUEST_CONFIG

    ticket: Ticket


class SimTickPost(BaseModel):
    """``POST /sim/ticks``: hold a symbol's price (``bid``, optional ``ask``), or hand it back to the
    simulated market with ``mode: "live"``. Without ``ask`` the symbol's typical spread is used."""

    model_config = _REQUEST_CONFIG

    symbol: Symbol
    bid: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_not_bool)] | None = None
    ask: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_not_bool)] | None = None
    mode: Literal["live"] | None = None

    @model_validator(mode="after")
    def _price_or_live(self) -> SimTickPost:
        if self.mode == "live":
            if self.bid is not None or self.ask is not None:
                raise ValueError('give either bid/ask or mode "live", not both')
        elif self.bid is None:
            raise ValueError('bid is required unless mode is "live"')
        elif self.ask is not None and self.ask < self.bid:
            raise ValueError("ask must not be below bid")
        return self


def _order_value(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a number or a string")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be finite, got {value!r}")
    if isinstance(value, int) and not -MAX_INT64 - 1 <= value <= MAX_INT64:
        raise ValueError("is out of the 64-bit range")
    return value


#: ``POST /sim/order_send``: a trade request dict as ``MetaTrader5.order_send`` takes it (numbers and strings;
#: the simulated terminal judges the request itself and answers with a retcode, as MT5 does).
SimOrderRequest = dict[
    Annotated[str, StringConstraints(min_length=1, max_length=64)], Annotated[Any, AfterValidator(_order_value)]
]


class SimFaultPost(BaseModel):
    """``POST /sim/faults``: arm a simulated terminal fault, start random faults, or clear them all.

    ``kind`` is a fault kind of the simulator (``disconnect``, ``ipc_timeout``, ``block``, ``restart``,
    ``algo_disabled``, ``retcode``; and the real terminal's states, lasting until ``clear``:
    ``algo_trading_off``, ``account_trading_off``, ``broker_link_lost``, ``outside_market_watch`` with
    ``symbols``, ``history_loading`` with ``symbols`` and ``count``, ``partial_fill`` with ``fraction`` and
    ``count``), or ``random`` (``seed``, ``probability``, ``kinds``, ``block_seconds``), or ``clear``. The
    simulator checks which parameters a kind takes (``FAULT_PARAMETERS`` in ``app/terminal/sim/faults.py``);
    ``params()`` gives those that were sent,
    other keys included (a kind added to the simulator needs no change here; a key no kind takes is named in
    the 422).
    """

    model_config = ConfigDict(extra="allow", validate_by_name=True, validate_by_alias=True)

    kind: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=32)]
    function: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    action: Annotated[int, Field(ge=0), BeforeValidator(_not_bool)] | None = None
    retcode: Annotated[int, BeforeValidator(_not_bool)] | None = None
    executed: bool | None = None
    count: Annotated[int, Field(ge=1), BeforeValidator(_not_bool)] | None = None
    seconds: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False), BeforeValidator(_not_bool)] | None = None
    failing_initializes: Annotated[int, Field(ge=0), BeforeValidator(_not_bool)] | None = None
    seed: int | None = None
    probability: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    kinds: list[str] | None = None
    block_seconds: Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)] | None = None
    symbols: list[Annotated[str, StringConstraints(min_length=1, max_length=29)]] | None = None
    fraction: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] | None = None

    def params(self) -> dict[str, Any]:
        """The parameters that were sent, without ``kind``."""
        return self.model_dump(exclude={"kind"}, exclude_none=True)


# --- responses ------------------------------------------------------------------------------------------


class TradeInfo(BaseModel):
    """One managed trade as listed in tables. Prices are MT5's; ``sl``/``tp`` are 0.0 when the position has no
    level (MT5's convention). Times are terminal (broker server) time in epoch seconds."""

    ticket: int
    symbol: str
    direction: DirectionName
    entry: float
    volume: float
    sl: float
    tp: float
    state: DefensiveStateName
    score: float = 0.0
    profit_r: float | None = None  # None until a price is known
    r: float = 0.0
    synthetic_r: bool = False
    managed_by: str = Field(
        default=DTMS_OWNER,
        description=f"\"{DTMS_OWNER}\" for DTMS's own trades, else the registering bot's strategy_type",
    )
    strategy_type: str | None = None
    source: str = "REGISTERED"
    magic: int = 0
    comment: str = ""
    breakeven_triggered: bool = False
    partial_taken: bool = False
    hedge_ticket: int | None = None
    registered_at: float = 0.0
    last_action: str | None = None
    last_action_at: float | None = None
    active: bool = True


class TransitionInfo(BaseModel):
    from_state: DefensiveStateName
    to_state: DefensiveStateName
    reason: str
    score: float
    at: float


class ActionInfo(BaseModel):
    """One order_send DTMS made (or decided not to make) and its real MT5 outcome."""

    ticket: int
    kind: str
    outcome: str
    retcode: int | None = None
    comment: str = ""
    attempt: int = 1
    detail: str = ""
    request: dict[str, Any] = Field(default_factory=dict)
    at: float = 0.0


class TradeDetail(TradeInfo):
    """``GET /dtms/trade/{ticket}``: a trade with its timers, score explanation, transitions and journal;
    ``success``, ``summary`` and ``trade_info`` are the earlier server's shape of the same trade."""

    initial_sl: float = 0.0
    initial_volume: float = 0.0
    opened_at: float = 0.0
    state_since: float = 0.0
    score_explanation: str = ""
    warnings: int = 0
    last_warning_at: float | None = None
    flat_timer_until: float | None = None
    recovery_timer_until: float | None = None
    closed_volume: float = 0.0
    closed_at: float | None = None
    close_reason: str | None = None
    #: what DTMS could not do in a state, for a reason that does not change by itself ("WARNING_L2:PARTIAL_CLOSE@0.01")
    cannot: dict[str, str] = Field(default_factory=dict)
    sent: dict[str, Any] = Field(default_factory=dict)
    transitions: list[TransitionInfo] = Field(default_factory=list)
    journal: list[ActionInfo] = Field(default_factory=list)
    success: bool = True
    summary: str = ""
    trade_info: EarlierTradeInfo | None = None


class EnabledTradeInfo(TradeInfo):
    """The registered trade, with the earlier server's names for entry and levels beside ours."""

    entry_price: float = 0.0
    stop_loss: float = 0.0
    take_profit: float = 0.0


class EnableTradeResponse(BaseModel):
    success: bool
    ticket: int
    already_registered: bool
    trade_info: EnabledTradeInfo
    summary: str = ""

    @field_validator("trade_info", mode="before")
    @classmethod
    def _any_trade_info(cls, value: Any) -> Any:
        # a TradeInfo (or TradeDetail) built by a caller is taken as its fields
        return value.model_dump() if isinstance(value, TradeInfo) else value


class DisableTradeResponse(BaseModel):
    success: bool
    ticket: int


class TradesResponse(BaseModel):
    """``GET /dtms/trades``."""

    trades: list[TradeInfo]
    count: int
    #: trades matching the filters across all pages
    total: int | None = None
    #: pass as ``cursor`` for the next page; null on the last page
    next_cursor: str | None = None


class TradeRegistryEntry(BaseModel):
    """``GET /trade-registry/{ticket}``: ``managed_by`` is ``"dtms_manager"`` for DTMS's own trades, the
    registering bot's ``strategy_type`` for others, ``""`` for a ticket no one manages (still a 200)."""

    ticket: int
    managed_by: str = ""
    breakeven_triggered: bool = False
    symbol: str | None = None
    direction: DirectionName | None = None
    strategy_type: str | None = None


class HealthResponse(BaseModel):
    """``GET /health``: 200 when ready (``status`` ``healthy``, or ``degraded`` when the database or the terminal
    has a problem), 503 (``unhealthy``, ``readiness`` ``not_ready``) while not READY, 500 on error."""

    status: HealthStatus
    dtms_initialized: bool
    dtms_available: bool = True
    readiness: Readiness = "healthy"
    error: str | None = Field(default=None, description="why it is not healthy (absent when healthy)")
    state: LifecycleStateName | None = None
    reason: str | None = None
    monitoring_active: bool = False
    active_trades: int = 0
    epoch: int = 0
    terminal: str | None = None  # "sim" or "mt5"
    timestamp: str | None = None  # ISO, wall clock
    wall_time: float | None = None  # the same instant in epoch seconds
    database_problem: str | None = None  # why the database is degraded (503 while it is)
    terminal_stall_s: float | None = None  # seconds the terminal has not answered (503 while it does not)


class DtmsHealthResponse(BaseModel):
    """``GET /dtms/health``: 200 when ready, else 503."""

    dtms_initialized: bool
    monitoring_active: bool
    active_trades: int
    ready: bool
    state: LifecycleStateName | None = None
    reason: str | None = None  # why it is not ready
    timestamp: str | None = None  # ISO, wall clock
    error: str | None = Field(default=None, description="why it is not ready (absent when ready)")


class StatusResponse(BaseModel):
    """``GET /dtms/status``: the engine in one glance."""

    state: LifecycleStateName
    reason: str | None = None
    epoch: int = 0
    terminal: str | None = None
    connected: bool = False
    monitoring_active: bool = False
    active_trades: int = 0
    trades_by_state: dict[str, int] = Field(default_factory=dict)
    rails_tripped: list[str] = Field(default_factory=list)
    last_fast_cycle_at: float | None = None
    last_deep_check_at: float | None = None
    success: bool = True
    summary: str = ""
    dtms_status: DtmsStatusInfo | None = None


class ActionsResponse(BaseModel):
    """``GET /dtms/actions``: recent actions, newest first."""

    actions: list[ActionInfo]
    count: int = Field(description="how many actions this answer holds")
    success: bool = True
    summary: str = ""
    action_history: list[ActionHistoryItem] = Field(default_factory=list)
    total_actions: int = Field(default=0, description="every action recorded, not only those returned")


class PingResponse(BaseModel):
    """``GET /ping``: the endpoint itself answers (whatever the engine's state)."""

    ok: bool = True


class InitializeResponse(BaseModel):
    """``POST /dtms/initialize``: whether a new initialisation was started, and the state it left."""

    accepted: bool
    state: LifecycleStateName
    reason: str | None = None
    success: bool = True
    summary: str = ""
    error: str | None = Field(default=None, description="why initialisation failed (absent otherwise)")


class EngineEvent(BaseModel):
    """The data of one ``GET /events`` server-sent event; ``seq`` is also the event's ``id``."""

    seq: int
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
    at: float
    wall_at: float


class SimQuote(BaseModel):
    bid: float
    ask: float
    time_msc: int | None = None
    digits: int | None = None
    scripted: bool = False


class SimTicksResponse(RootModel[dict[str, SimQuote]]):
    """``GET /sim/ticks``: ``{symbol: {bid, ask, ...}}`` for every symbol of the simulator."""


class ErrorResponse(BaseModel):
    """Every non-2xx answer: ``error`` a short machine code (see ``ErrorCode``), ``detail`` for people,
    ``field`` the offending request field when there is one."""

    error: str
    detail: str
    field: str | None = None


_LOCATION_PREFIXES = frozenset({"body", "query", "path", "header"})


def validation_error(errors: Iterable[Mapping[str, Any]]) -> ErrorResponse:
    """The 422 answer for pydantic's (or FastAPI's) ``errors()`` list, naming the field as the client sent it."""
    parts: list[str] = []
    first_field: str | None = None
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in _LOCATION_PREFIXES:
            loc = loc[1:]
        name = ".".join(loc) or None
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if first_field is None:
            first_field = name
        parts.append(f"{name}: {message}" if name else message)
    return ErrorResponse(error=ErrorCode.VALIDATION, detail="; ".join(parts) or "invalid request", field=first_field)
