"""A stand-in for the real MetaTrader5 module's shape, loaded by a gateway worker as a ``module`` terminal.

What the simulator cannot show: the real module answers with C struct sequences (tuple subclasses with
``_asdict``) that do not pickle, and a nested ``request`` inside order results. These types refuse to
pickle the same way, so a result can only reach the parent if the worker converted it.
``version()`` answers with something no conversion can make picklable.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from app.terminal.structs import RATES_DTYPE, OrderSendResult, TradePosition, TradeRequest

_state: dict[str, Any] = {"connected": False, "error": (1, "Success")}


class _StructSequence(tuple):
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name not in self._fields:
            raise AttributeError(name)
        return self[self._fields.index(name)]

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def __reduce__(self) -> Any:
        raise TypeError(f"cannot pickle 'MetaTrader5.{type(self).__name__}' object")


def _struct_type(template: type) -> type:
    return type(template.__name__, (_StructSequence,), {"__slots__": (), "_fields": template._fields})


StructPosition = _struct_type(TradePosition)
StructRequest = _struct_type(TradeRequest)
StructResult = _struct_type(OrderSendResult)


def _answer(value: Any, error: tuple[int, str] = (1, "Success")) -> Any:
    _state["error"] = error
    return value


def initialize(path: str | None = None, *, login: int | None = None, timeout: int = 60_000, **_: Any) -> bool:
    _state["connected"] = True
    return _answer(True)


def shutdown() -> bool:
    _state["connected"] = False
    return _answer(True)


def last_error() -> tuple[int, str]:
    return _state["error"]


def version() -> Any:
    """An answer that cannot cross a process boundary (a lock does not pickle)."""
    return _answer(threading.Lock())


def positions_get(**filters: Any) -> Any:
    if not _state["connected"]:
        return _answer(None, (-10004, "No IPC connection"))
    position = StructPosition(
        (
            7,
            1_700_000_000,
            1_700_000_000_000,
            1_700_000_000,
            1_700_000_000_000,
            0,
            42,
            7,
            3,
            0.1,
            1.1,
            1.09,
            1.12,
            1.101,
            0.0,
            0.1,
            "EURUSD",
            "fake",
            "",
        )
    )
    return _answer((position,))


def order_send(request: dict[str, Any]) -> Any:
    echoed = StructRequest(tuple(request.get(name, default) for name, default in _REQUEST_DEFAULTS.items()))
    return _answer(StructResult((10009, 11, 12, echoed.volume, 1.1, 1.1, 1.1002, "Request executed", 1, 0, echoed)))


def copy_rates_from_pos(symbol: str, timeframe: int, start_pos: int, count: int, /) -> Any:
    rates = np.zeros(count, dtype=RATES_DTYPE)
    rates["time"] = np.arange(count) * 60 + 1_700_000_000
    rates["close"] = 1.1
    return _answer(rates)


_REQUEST_DEFAULTS: dict[str, Any] = {
    name: {"int": 0, "float": 0.0, "str": ""}[kind.__forward_arg__]
    for name, kind in TradeRequest.__annotations__.items()
}
