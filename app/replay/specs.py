"""Symbol specifications for a replay: the simulator's presets, or a small TOML file.

A TOML table per symbol; every key but ``digits`` is optional::

    [GER40]
    digits = 1
    point = 0.1            # default 10 ** -digits
    contract_size = 1.0
    tick_size = 0.1        # default point
    tick_value = 0.1       # account currency per tick and lot
    volume_min = 0.1
    volume_max = 100.0
    volume_step = 0.1
    spread_points = 10     # used where the bars carry no spread
    stops_level = 0
    freeze_level = 0

Swaps are zero in a replay (the bars carry no swap rates), on both sides alike.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from pathlib import Path

from app.replay.inputs import ReplayInputError
from app.terminal.sim.symbols import PRESET_SYMBOLS, SymbolSpec

logger = logging.getLogger(__name__)

_KEYS = {
    "digits": ("digits", int),
    "point": ("point", float),
    "contract_size": ("trade_contract_size", float),
    "tick_size": ("trade_tick_size", float),
    "tick_value": ("trade_tick_value", float),
    "volume_min": ("volume_min", float),
    "volume_max": ("volume_max", float),
    "volume_step": ("volume_step", float),
    "spread_points": ("spread_points", int),
    "stops_level": ("trade_stops_level", int),
    "freeze_level": ("trade_freeze_level", int),
}


def replay_specs(
    symbols: list[str], spec_file: Path | None, *, bars: dict[str, Path] | None = None
) -> dict[str, SymbolSpec]:
    """Each symbol's specification; an unknown one is an error naming its bars file (``bars``)."""
    tables: dict[str, dict] = {}
    if spec_file is not None:
        try:
            tables = tomllib.loads(Path(spec_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ReplayInputError(
                spec_file,
                _line_of(error),
                f"cannot read the symbol specifications ({error})",
                "write one [SYMBOL] table per symbol with digits, contract_size, tick_value, ...",
            ) from error
    specs: dict[str, SymbolSpec] = {}
    for name in symbols:
        table = tables.get(name)
        if table is not None:
            specs[name] = _from_table(name, table, spec_file)
        elif name in PRESET_SYMBOLS:
            specs[name] = dataclasses.replace(PRESET_SYMBOLS[name])
        else:
            raise ReplayInputError(
                (bars or {}).get(name) or spec_file or f"--bars {name}=...",
                None,
                f"no specification for symbol {name!r} (presets: {', '.join(PRESET_SYMBOLS)})",
                f"add a [{name}] table with digits, contract_size, tick_value and volume rules "
                "to a file given with --spec",
            )
        specs[name].swap_long = specs[name].swap_short = 0.0
    return specs


def _from_table(name: str, table: dict, path: Path | None) -> SymbolSpec:
    if not isinstance(table, dict) or "digits" not in table:
        raise ReplayInputError(path or "--spec", None, f"[{name}] has no digits", f"add digits = N to [{name}]")
    base = PRESET_SYMBOLS.get(name) or PRESET_SYMBOLS["EURUSD"]
    values: dict = {"name": name, "description": name, "path": f"Replay\\{name}", "has_trade_flags": False}
    for key, value in table.items():
        if key not in _KEYS:
            raise ReplayInputError(
                path or "--spec", None, f"[{name}] has an unknown key {key!r}", f"use only {', '.join(_KEYS)}"
            )
        field_name, kind = _KEYS[key]
        try:
            values[field_name] = kind(value)
        except (TypeError, ValueError):
            raise ReplayInputError(
                path or "--spec", None, f"[{name}] {key} = {value!r} is not a number", f"write {key} as a number"
            ) from None
    digits = values["digits"]
    values.setdefault("point", 10.0**-digits)
    values.setdefault("trade_tick_size", values["point"])
    if name not in PRESET_SYMBOLS:
        values.setdefault(
            "trade_tick_value", values.get("trade_contract_size", base.trade_contract_size) * values["trade_tick_size"]
        )
    return dataclasses.replace(base, **values)


def _line_of(error: Exception) -> int | None:
    return getattr(error, "lineno", None)
