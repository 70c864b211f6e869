"""The module's calling conventions: positional-only and keyword-only arguments, dates, symbol strings,
and symbol group masks such as ``"*USD*,!EUR*"``.

CPython itself raises TypeError for keywords given to a positional-only function and for unknown
keywords; functions parsed with a fixed format surface a wrong type as SystemError (the module returns
None with the TypeError still set). Everything else fails softly through CallError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from app.terminal.sim import codes
from app.terminal.sim.codes import CallError
from app.terminal.sim.requests import MAX_STRING

_MAX_GROUP = 1999


def no_keywords(function: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{function}() takes no keyword arguments")


def only_keywords(function: str, kwargs: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in kwargs:
        if name not in allowed:
            raise TypeError(f"'{name}' is an invalid keyword argument for {function}()")


def count(args: tuple[Any, ...], low: int, high: int | None = None) -> None:
    if not low <= len(args) <= (low if high is None else high):
        raise CallError(codes.INVALID_COUNT)


def parser_type_error(function: str, message: str) -> SystemError:
    """What CPython raises when the module's fixed-format parser refused an argument's type."""
    error = SystemError(f"<built-in function {function}> returned a result with an exception set")
    error.__cause__ = TypeError(message)
    return error


def symbol(value: Any, index: int) -> str:
    if not isinstance(value, str) or len(value) > MAX_STRING:
        raise CallError(codes.invalid_unnamed(index))
    return value


def parsed_symbol(function: str, value: Any) -> str:
    """A symbol read by a fixed-format parser: a wrong type raises, an over-long name fails softly."""
    if not isinstance(value, str):
        raise parser_type_error(function, f"argument 1 must be str, not {type(value).__name__}")
    if len(value) > MAX_STRING:
        raise CallError(codes.invalid_unnamed(0))
    return value


def parsed_int(function: str, value: Any, index: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise parser_type_error(function, f"argument {index + 1} must be int, not {type(value).__name__}")
    return value


def parsed_float(function: str, value: Any, index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise parser_type_error(function, f"argument {index + 1} must be float, not {type(value).__name__}")
    return float(value)


def date(value: Any, index: int) -> int:
    """A date argument as epoch seconds: a datetime's ``timestamp()`` (naive = local time), an int, or a
    float truncated."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CallError(codes.invalid_unnamed(index))
    return int(value)


def keyword_symbol(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_STRING:
        raise CallError(codes.invalid_key("symbol"))
    return value


def keyword_group(value: Any) -> Callable[[str], bool]:
    if not isinstance(value, str) or len(value) >= _MAX_GROUP:
        raise CallError(codes.invalid_key("group"))
    return group_matcher(value)


def keyword_ticket(value: Any, key: str = "ticket") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CallError(codes.invalid_key(key))
    return value


@lru_cache(maxsize=64)
def group_matcher(group: str) -> Callable[[str], bool]:
    """Symbol filter for a group: comma-separated masks with ``*`` wildcards, ``!`` excludes, applied in
    order (so ``"*USD*,!EUR*"`` is every USD symbol except those starting with EUR)."""
    masks: list[tuple[bool, re.Pattern[str]]] = []
    for raw in group.split(","):
        mask = raw.strip()
        if not mask:
            continue
        include = not mask.startswith("!")
        body = mask if include else mask[1:]
        pattern = ".*".join(re.escape(part) for part in body.split("*"))
        masks.append((include, re.compile(pattern, re.IGNORECASE)))

    def matches(name: str) -> bool:
        selected = False
        for include, pattern in masks:
            if pattern.fullmatch(name):
                selected = include
        return selected

    return matches
