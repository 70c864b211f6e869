"""Turn whatever a terminal returns into plain, picklable values (runs in the worker process).

The real module answers with C struct sequences that do not pickle reliably. Each one is rebuilt as the
``NamedTuple`` of ``app.terminal.structs`` with the same type name, field by field, including the nested
``request`` of order results. numpy arrays keep their exact dtype; containers are converted element-wise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.terminal.structs import STRUCT_TYPES

_SCALARS: frozenset[type] = frozenset({type(None), bool, int, float, str, bytes})
_OURS: frozenset[type] = frozenset(STRUCT_TYPES.values())


def to_plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS or kind in _OURS or kind is np.ndarray:
        return value
    if isinstance(value, tuple):
        if hasattr(value, "_asdict"):
            return _struct(value)
        return tuple(to_plain(item) for item in value)
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _struct(value: Any) -> Any:
    """A struct-sequence (or foreign named tuple) as our NamedTuple of that name, else as a dict."""
    fields = value._asdict()
    target = STRUCT_TYPES.get(type(value).__name__)
    if target is None:
        return {key: to_plain(item) for key, item in fields.items()}
    # a NamedTuple class: mypy has no type for "any NamedTuple class" that keeps ``_fields`` (see rpyc_terminal)
    names: tuple[str, ...] = target._fields  # type: ignore[attr-defined]
    return target(*(to_plain(fields[name]) for name in names))
