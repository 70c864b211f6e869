"""Reading an order_send / order_check request the way the module's parser does.

One dict (or dict subclass) as the only positional argument, or the same keys as keyword arguments.
Every key is optional (missing -> 0, 0.0, ""), unknown keys are ignored, and types are strict: integer
keys take Python ``int`` (``bool`` too, numpy integers not), float keys take ``float`` or a subclass such
as ``numpy.float64`` (a plain ``int`` is refused), strings are at most 29 characters.
"""

from __future__ import annotations

from typing import Any

from app.terminal.sim import codes
from app.terminal.sim.codes import CallError
from app.terminal.structs import TradeRequest

MAX_STRING = 29

_UINT32 = 2**32 - 1
_UINT64 = 2**64 - 1
_INT64 = 2**63
#: integer key -> (lowest, highest) accepted value
_INT_KEYS: dict[str, tuple[int, int]] = {
    "action": (0, _UINT32),
    "magic": (0, _UINT64),
    "order": (0, _UINT64),
    "deviation": (0, _UINT64),
    "type": (0, _UINT32),
    "type_filling": (0, _UINT32),
    "type_time": (0, _UINT32),
    "expiration": (-_INT64, _INT64 - 1),
    "position": (0, _UINT64),
    "position_by": (0, _UINT64),
}
_FLOAT_KEYS = frozenset({"volume", "price", "stoplimit", "sl", "tp"})
_STR_KEYS = frozenset({"symbol", "comment"})


def _value(name: str, raw: Any) -> int | float | str:
    if name in _FLOAT_KEYS:
        if isinstance(raw, float):
            return float(raw)
    elif name in _STR_KEYS:
        if isinstance(raw, str) and len(raw) <= MAX_STRING:
            return str(raw)
    else:
        low, high = _INT_KEYS[name]
        if isinstance(raw, int) and low <= raw <= high:
            return int(raw)
    raise CallError(codes.invalid_key(name))


def parse_request(args: tuple[Any, ...], kwargs: dict[str, Any]) -> TradeRequest:
    """The request as a TradeRequest with every default filled in; CallError(-2, ...) when malformed."""
    if args and kwargs or len(args) > 1:
        raise CallError(codes.INVALID_ARGUMENTS)
    if args:
        source = args[0]
        if not isinstance(source, dict):
            raise CallError(codes.INVALID_ARGUMENTS)
    elif kwargs:
        source = kwargs
    else:
        raise CallError(codes.INVALID_ARGUMENTS)
    values: list[int | float | str] = []
    for name in TradeRequest._fields:
        if name in source:
            values.append(_value(name, source[name]))
        elif name in _FLOAT_KEYS:
            values.append(0.0)
        elif name in _STR_KEYS:
            values.append("")
        else:
            values.append(0)
    return TradeRequest(*values)  # type: ignore[arg-type]
