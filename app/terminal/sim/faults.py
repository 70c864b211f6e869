"""Faults the simulated terminal can be told to show: scripted ones (the next call, the next n calls of a
function, the next order_sends) and random ones (a seeded generator with a probability per call).

The plan only decides what happens to a call; the terminal carries it out (drops its connection, blocks
holding the GIL, answers a retcode).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.terminal import constants as c
from app.terminal.protocol import TERMINAL_FUNCTIONS
from app.terminal.sim import codes

logger = logging.getLogger(__name__)


class FaultKind(StrEnum):
    DISCONNECT = "disconnect"  # terminal lost: every call -10004 until an initialize() succeeds
    IPC_TIMEOUT = "ipc_timeout"  # the next calls fail with (-10005, "IPC timeout")
    BLOCK = "block"  # the next call blocks while holding the GIL, then proceeds
    RESTART = "restart"  # terminal restarts: connection dropped until initialize, broker state kept
    ALGO_DISABLED = "algo_disabled"  # algo trading switched off in the terminal until cleared
    RETCODE = "retcode"  # the next order_sends are answered with a given retcode
    # states of the real terminal the engine must notice (each lasts until clear_faults):
    ALGO_TRADING_OFF = "algo_trading_off"  # the Algo Trading button is off: trade_allowed false, order_send 10027
    ACCOUNT_TRADING_OFF = "account_trading_off"  # the broker disabled expert trading: trade_expert false, 10026
    BROKER_LINK_LOST = "broker_link_lost"  # terminal up, server link down: connected false, ticks stop, 10031
    OUTSIDE_MARKET_WATCH = "outside_market_watch"  # {symbols}: tick None (-1) until symbol_select(symbol)
    HISTORY_LOADING = "history_loading"  # {symbols?, count}: copy_rates_* None (-1) for a symbol's first requests
    PARTIAL_FILL = "partial_fill"  # {fraction, count}: the next market deals fill only part (see below)


#: The parameters each fault kind takes, in plain words (every one optional unless it says "required"). The HTTP
#: endpoint documents ``POST /sim/faults`` and names a parameter a kind does not take from this table: a new
#: kind adds its line here. ``random`` and ``clear`` are not fault kinds but commands of the same route.
FAULT_PARAMETERS: dict[str, dict[str, str]] = {
    "disconnect": {"failing_initializes": "how many reconnection attempts fail first (integer >= 0, default 0)"},
    "ipc_timeout": {
        "count": "how many calls fail (integer >= 1, default 1)",
        "function": "only calls of this terminal function (e.g. order_send; default any)",
    },
    "block": {
        "seconds": "how long the call blocks, holding the GIL (number in (0, 600], default 1)",
        "function": "only a call of this terminal function (default the next call)",
    },
    "restart": {"failing_initializes": "how many reconnection attempts fail first (integer >= 0, default 0)"},
    "algo_disabled": {},
    "retcode": {
        "retcode": "required: the retcode order_send answers (10004, 10012, 10016, 10020, 10021, 10024, "
        "10029, 10030 or 10031)",
        "count": "how many order_sends get it (integer >= 1, default 1)",
        "action": "only order_sends of this TRADE_ACTION_* (integer; default any)",
        "executed": "10012 only: the deal is done although the answer says timeout (true/false)",
    },
    "algo_trading_off": {},
    "account_trading_off": {},
    "broker_link_lost": {},
    "outside_market_watch": {"symbols": "required: the symbols taken out of Market Watch (list of names)"},
    "history_loading": {
        "symbols": "the symbols whose history is still loading (list of names; default every symbol)",
        "count": "how many copy_rates_* requests per symbol answer None first (integer >= 1, default 3)",
    },
    "partial_fill": {
        "fraction": "the share of the volume filled (a number between 0 and 1, default 0.5, rounded down "
        "to the volume step)",
        "count": "how many market deals fill only part (integer >= 1, default 1)",
    },
    "random": {
        "seed": "random generator seed (integer, default 0)",
        "probability": "chance of a fault per call (0 to 1)",
        "kinds": "fault kinds to draw from (list of names)",
        "block_seconds": "how long a drawn block lasts (seconds, default 0.05)",
    },
    "clear": {},
}

#: Kinds that put the terminal in a state lasting until ``clear``.
_LASTING = frozenset({FaultKind.ALGO_TRADING_OFF, FaultKind.ACCOUNT_TRADING_OFF, FaultKind.BROKER_LINK_LOST})

#: Retcodes a scripted fault may answer with.
RETCODE_FAULTS = frozenset({10004, 10012, 10016, 10020, 10021, 10024, 10029, 10030, 10031})

#: Retcodes random faults draw from (the transient ones a live server gives now and then).
_RANDOM_RETCODES = (10004, 10012, 10020, 10021, 10024, 10031)
#: Calls random faults leave alone: connecting, disconnecting and reading the error.
_RANDOM_EXEMPT = frozenset({"initialize", "shutdown", "last_error"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFault:
    """What a fault does to one call."""

    block_seconds: float = 0.0
    error: codes.Error | None = None
    drop_connection: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RetcodeFault:
    retcode: int
    executed: bool  # 10012 only: the deal is done although the answer says timeout


@dataclass(slots=True, kw_only=True)
class _Scripted:
    kind: FaultKind
    count: int
    function: str | None = None
    action: int | None = None
    seconds: float = 0.0
    retcode: int = 0
    executed: bool = False

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": str(self.kind), "count": self.count}
        for name in ("function", "action"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.kind is FaultKind.BLOCK:
            data["seconds"] = self.seconds
        if self.kind is FaultKind.RETCODE:
            data.update(retcode=self.retcode, executed=self.executed)
        return data


def _int_param(params: dict[str, Any], name: str, default: int, *, minimum: int = 0) -> int:
    value = params.pop(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _symbols_param(params: dict[str, Any], *, required: bool) -> list[str]:
    symbols = params.pop("symbols", None)
    if symbols is None and not required:
        return []
    if not isinstance(symbols, list | tuple) or not symbols or not all(isinstance(x, str) for x in symbols):
        raise ValueError(f"symbols must be a non-empty list of symbol names, got {symbols!r}")
    return list(symbols)


def _function_param(params: dict[str, Any]) -> str | None:
    function = params.pop("function", None)
    if function is not None and function not in TERMINAL_FUNCTIONS:
        raise ValueError(f"unknown terminal function {function!r}")
    return function


class FaultPlan:
    """Scripted and random faults, consumed call by call."""

    def __init__(self) -> None:
        self._scripted: list[_Scripted] = []
        self.failing_initializes = 0
        self.algo_disabled = False
        self.states: set[FaultKind] = set()  # the lasting terminal states above
        self.history_loading: dict[str | None, int] = {}  # symbol (None: any) -> requests still answered None
        self._history_seen: dict[str, int] = {}
        self.partial_fills: list[tuple[float, int]] = []  # (fraction, deals left)
        self.hide: list[str] = []  # symbols the terminal takes out of Market Watch (consumed by the terminal)
        self._rng: random.Random | None = None
        self._probability = 0.0
        self._kinds: tuple[FaultKind, ...] = ()
        self._random_block = 0.0
        self._random_retcode: RetcodeFault | None = None

    # --- scripting -------------------------------------------------------------------------------------

    def inject(self, kind: str, **params: Any) -> FaultKind:
        """Arm a fault. Raises ValueError for an unknown kind or bad parameters."""
        try:
            fault = FaultKind(kind)
        except ValueError:
            raise ValueError(f"unknown fault kind {kind!r}; known: {[k.value for k in FaultKind]}") from None
        failing_initializes = 0
        scripted: _Scripted | None = None
        if fault in (FaultKind.DISCONNECT, FaultKind.RESTART):
            failing_initializes = _int_param(params, "failing_initializes", 0)
        elif fault is FaultKind.IPC_TIMEOUT:
            count = _int_param(params, "count", 1, minimum=1)
            scripted = _Scripted(kind=fault, count=count, function=_function_param(params))
        elif fault is FaultKind.BLOCK:
            seconds = params.pop("seconds", 1.0)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 600:
                raise ValueError(f"seconds must be a number in (0, 600], got {seconds!r}")
            scripted = _Scripted(kind=fault, count=1, function=_function_param(params), seconds=float(seconds))
        elif fault is FaultKind.RETCODE:
            scripted = self._retcode_fault(params)
        elif fault is FaultKind.OUTSIDE_MARKET_WATCH:
            self.hide = _symbols_param(params, required=True)
        elif fault is FaultKind.HISTORY_LOADING:
            symbols = _symbols_param(params, required=False)
            count = _int_param(params, "count", 3, minimum=1)
            targets: list[str | None] = list(symbols) if symbols else [None]
            for symbol in targets:
                self.history_loading[symbol] = count
            self._history_seen.clear()
        elif fault is FaultKind.PARTIAL_FILL:
            fraction = params.pop("fraction", 0.5)
            if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
                raise ValueError(f"fraction must be a number in (0, 1), got {fraction!r}")
            self.partial_fills.append((float(fraction), _int_param(params, "count", 1, minimum=1)))
        if params:
            takes = ", ".join(FAULT_PARAMETERS.get(fault.value, {})) or "no parameter"
            raise ValueError(
                f"{', '.join(sorted(params))}: not a parameter of fault kind {fault.value} (it takes {takes})"
            )
        if fault in (FaultKind.DISCONNECT, FaultKind.RESTART):
            self.failing_initializes = failing_initializes
        elif fault is FaultKind.ALGO_DISABLED:
            self.algo_disabled = True
        elif fault in _LASTING:
            self.states.add(fault)
        elif scripted is not None:
            self._scripted.append(scripted)
        logger.info("fault armed: %s", fault)
        return fault

    @staticmethod
    def _retcode_fault(params: dict[str, Any]) -> _Scripted:
        retcode = params.pop("retcode", None)
        if retcode not in RETCODE_FAULTS:
            raise ValueError(f"retcode must be one of {sorted(RETCODE_FAULTS)}, got {retcode!r}")
        executed = params.pop("executed", retcode == c.TRADE_RETCODE_TIMEOUT)
        if not isinstance(executed, bool) or (executed and retcode != c.TRADE_RETCODE_TIMEOUT):
            raise ValueError("executed=True is only meaningful for retcode 10012")
        count = _int_param(params, "count", 1, minimum=1)
        action = params.pop("action", None)
        if action is not None and (isinstance(action, bool) or not isinstance(action, int)):
            raise ValueError(f"action must be a TRADE_ACTION_* integer, got {action!r}")
        return _Scripted(kind=FaultKind.RETCODE, count=count, action=action, retcode=retcode, executed=executed)

    def set_random(
        self, seed: int, probability: float, kinds: list[str] | tuple[str, ...], block_seconds: float = 0.05
    ) -> None:
        """Give every call (but initialize, shutdown and last_error) ``probability`` of one of ``kinds``."""
        if not 0.0 <= float(probability) <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {probability!r}")
        try:
            chosen = tuple(FaultKind(kind) for kind in kinds)
        except ValueError as exc:
            raise ValueError(f"unknown fault kind in {kinds!r}") from exc
        if not chosen:
            raise ValueError("kinds must name at least one fault kind")
        self._rng = random.Random(seed)
        self._probability = float(probability)
        self._kinds = chosen
        self._random_block = float(block_seconds)

    def clear(self) -> None:
        self._scripted.clear()
        self.failing_initializes = 0
        self.algo_disabled = False
        self.states.clear()
        self.history_loading.clear()
        self._history_seen.clear()
        self.partial_fills.clear()
        self._rng = None
        self._probability = 0.0
        self._kinds = ()
        self._random_retcode = None
        logger.info("faults cleared")

    def describe(self) -> dict[str, Any]:
        return {
            "scripted": [fault.describe() for fault in self._scripted],
            "failing_initializes": self.failing_initializes,
            "algo_disabled": self.algo_disabled,
            "states": sorted(str(kind) for kind in self.states),
            "history_loading": {symbol or "*": count for symbol, count in self.history_loading.items()},
            "partial_fills": [{"fraction": f, "count": n} for f, n in self.partial_fills],
            "random": (
                {"probability": self._probability, "kinds": [str(kind) for kind in self._kinds]}
                if self._rng is not None
                else None
            ),
        }

    # --- consumption -----------------------------------------------------------------------------------

    def on_call(self, function: str) -> CallFault | None:
        """What happens to this call of ``function``, if anything. Consumes one-shot faults."""
        self._random_retcode = None
        block = 0.0
        for fault in self._scripted:
            if fault.kind is FaultKind.BLOCK and fault.function in (None, function):
                block = fault.seconds
                self._consume(fault)
                break
        for fault in self._scripted:
            if fault.kind is FaultKind.IPC_TIMEOUT and fault.function in (None, function):
                self._consume(fault)
                return CallFault(block_seconds=block, error=codes.IPC_TIMEOUT)
        random_fault = self._draw(function)
        if random_fault is not None:
            return CallFault(
                block_seconds=block + random_fault.block_seconds,
                error=random_fault.error,
                drop_connection=random_fault.drop_connection,
            )
        return CallFault(block_seconds=block) if block else None

    def _draw(self, function: str) -> CallFault | None:
        if self._rng is None or function in _RANDOM_EXEMPT or self._rng.random() >= self._probability:
            return None
        kind = self._rng.choice(self._kinds)
        logger.debug("random fault %s on %s", kind, function)
        if kind is FaultKind.IPC_TIMEOUT:
            return CallFault(error=codes.IPC_TIMEOUT)
        if kind in (FaultKind.DISCONNECT, FaultKind.RESTART):
            return CallFault(drop_connection=True)
        if kind is FaultKind.BLOCK:
            return CallFault(block_seconds=self._random_block)
        if function != "order_send":
            return None
        if kind is FaultKind.ALGO_DISABLED:
            return CallFault(error=codes.ALGO_DISABLED)
        retcode = self._rng.choice(_RANDOM_RETCODES)
        self._random_retcode = RetcodeFault(retcode=retcode, executed=retcode == c.TRADE_RETCODE_TIMEOUT)
        return None

    def take_retcode(self, action: int) -> RetcodeFault | None:
        """The retcode fault answering this order_send, if one is armed for its action."""
        if self._random_retcode is not None:
            fault, self._random_retcode = self._random_retcode, None
            return fault
        for scripted in self._scripted:
            if scripted.kind is FaultKind.RETCODE and scripted.action in (None, action):
                self._consume(scripted)
                return RetcodeFault(retcode=scripted.retcode, executed=scripted.executed)
        return None

    def active(self, kind: FaultKind) -> bool:
        return kind in self.states

    def take_history_miss(self, symbol: str) -> bool:
        """True when this copy_rates_* request for ``symbol`` finds its history still downloading."""
        left = self.history_loading.get(symbol, self.history_loading.get(None, 0))
        seen = self._history_seen.get(symbol, 0)
        if seen >= left:
            return False
        self._history_seen[symbol] = seen + 1
        return True

    def take_partial_fill(self) -> float | None:
        """The share of the next market deal that fills, if a partial fill is armed."""
        if not self.partial_fills:
            return None
        fraction, left = self.partial_fills[0]
        if left <= 1:
            self.partial_fills.pop(0)
        else:
            self.partial_fills[0] = (fraction, left - 1)
        return fraction

    def take_failing_initialize(self) -> bool:
        """True when this initialize attempt must fail (the terminal does not come back yet)."""
        if self.failing_initializes <= 0:
            return False
        self.failing_initializes -= 1
        return True

    def _consume(self, fault: _Scripted) -> None:
        fault.count -= 1
        if fault.count <= 0:
            self._scripted.remove(fault)
