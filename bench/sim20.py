"""A simulated terminal with 20 symbols (the presets and renamed copies) for the engine benchmarks.

Built from ``DTMS_BENCH_DATA_DIR`` when ``TERMINAL`` is first read, so a ``TerminalSpec(kind="module",
module="bench.sim20:TERMINAL")`` can name it wherever the terminal runs.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

from app.terminal.sim import SimulatedTerminal
from app.terminal.sim.symbols import SymbolSpec, preset_symbols

START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def twenty_symbols() -> dict[str, SymbolSpec]:
    presets = list(preset_symbols().values())
    specs: dict[str, SymbolSpec] = {}
    for i in range(20):
        base = presets[i % len(presets)]
        name = base.name if i < len(presets) else f"{base.name}.{i // len(presets)}"
        specs[name] = dataclasses.replace(base, name=name)
    return specs


def __getattr__(name: str) -> SimulatedTerminal:
    """``TERMINAL`` is built when first asked for (in the terminal's process), not at import: importing
    ``twenty_symbols`` beside a running worker takes no broker lock."""
    if name != "TERMINAL":
        raise AttributeError(name)
    terminal = SimulatedTerminal(
        data_dir=Path(os.environ["DTMS_BENCH_DATA_DIR"]),
        speed=0.0,
        start_time=START,
        symbols=twenty_symbols(),
        history_days=3,
    )
    globals()["TERMINAL"] = terminal
    return terminal
