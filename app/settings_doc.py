"""The settings reference (docs/settings.md), generated from the settings dataclasses so it cannot drift.

Every key of ``AppSettings`` with its TOML section, default, unit and meaning. The meaning is the field's own
comment in the code (a ``#:`` line above it or a ``#`` comment after it); the few fields without one take
theirs from ``MEANINGS`` below, and a test fails when a key has neither. Units come from the name's suffix.

    python -m app.settings_doc > docs/settings.md
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import textwrap
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

from app.config import AppSettings

UNITS = (
    ("_pct", "%"),
    ("_ms", "milliseconds"),
    ("_s", "seconds"),
    ("_r", "R (the trade's initial risk)"),
    ("_points", "points"),
    ("_bytes", "bytes"),
    ("_atr", "ATR"),
    ("_score", "score"),
)

#: meanings of the fields that carry no comment in the code
MEANINGS: dict[str, str] = {
    "api.host": "address the HTTP endpoint listens on (anything but loopback requires the token)",
    "api.port": "port of the HTTP endpoint (0 picks a free one, logged at start)",
    "api.max_body_bytes": "largest request body accepted (413 above it)",
    "terminal.path": "terminal64.exe of the MetaTrader 5 terminal to start (empty: the one running)",
    "terminal.login": "trading account to log in to (0: the terminal's current account)",
    "terminal.password": "password of that account",
    "terminal.server": "trade server of that account",
    "terminal.timeout_ms": "how long MetaTrader5.initialize may take to connect",
    "terminal.sim_seed": "seed of the simulated market (the same seed gives the same prices)",
    "terminal.sim_speed": "speed of the simulated clock (1 = real time, 60 = a minute per second)",
    "engine.connection.attempts": "connection attempts at start before FAILED",
    "engine.connection.backoff_s": "waits between those attempts",
    "engine.connection.reconnect_backoff_s": "waits between reconnection attempts after the terminal was lost",
    "engine.cycle.fast_interval_s": "time between two fast checks of every managed trade",
    "engine.cycle.deep_min_spacing_s": "least time between two deep checks (score) of one trade",
    "engine.cycle.forced_cooldown_s": "least time between two deep checks forced by a sharp move",
    "engine.cycle.backfill_m5": "M5 bars loaded per symbol at start",
    "engine.cycle.backfill_m15": "M15 bars loaded per symbol at start",
    "engine.protection.breakeven_r": "profit at which the stop moves to breakeven",
    "engine.protection.breakeven_lock_r": "profit the breakeven stop locks in beyond the entry",
    "engine.protection.partial_r": "profit at which part of the trade is closed",
    "engine.protection.partial_fraction": "share of the volume closed then",
    "engine.protection.trail_atr_multiple": "trailing stop distance, in ATR",
    "engine.protection.atr_period": "ATR period for the trailing stop",
    "engine.protection.synthetic_r_atr_multiple": "initial risk given to a trade without a stop, in ATR",
    "engine.protection.min_sl_change_r": "smallest stop move worth sending",
    "engine.protection.min_sl_interval_s": "least time between two stop moves of one trade",
    "engine.execution.deviation_points": "price deviation allowed on market orders",
    "engine.execution.max_attempts": "attempts of one order before it counts as failed",
    "engine.execution.retry_backoff_s": "waits between those attempts",
    "engine.execution.magic": "magic number of the orders DTMS sends itself",
    "engine.rails.daily_loss_pct": "loss of the day, in % of the balance, at which DTMS stops acting",
    "engine.rails.hourly_loss_pct": "loss of the last hour, in % of the balance, at which DTMS pauses",
    "engine.rails.max_consecutive_stopouts": "stop-outs in a row at which DTMS pauses",
    "engine.rails.spread_median_multiple": "spread, as a multiple of its median, above which DTMS waits",
    "engine.rails.max_bar_age_s": "age of the last bar beyond which prices count as stale",
    "engine.adoption.policy": "which open positions DTMS takes over on its own: all, none (only those bots "
    "register; the default), magic, comment_prefix",
    "engine.adoption.magics": "magic numbers taken over with policy magic",
    "engine.adoption.comment_prefix": "comment prefix taken over with policy comment_prefix",
    "engine.defense.flat_timer_s": "how long a hedged trade may stay flat before the hedge is closed",
    "engine.defense.recovery_timer_s": "how long RECOVERING lasts before the trade is judged again",
    "engine.defense.warning_decay_s": "time after which an old warning no longer counts",
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    key: str  # dotted, e.g. engine.protection.breakeven_r
    default: Any
    unit: str
    meaning: str


def _comments(cls: type) -> dict[str, str]:
    """Each field's comment in the class's source: ``#:`` lines above it, else a ``#`` after it."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                above.insert(0, lines[row].strip()[2:].strip())
                row -= 1
            after = lines[(node.end_lineno or node.lineno) - 1].partition("  # ")[2].strip()
            text = " ".join(above) or after
            if text:
                found[node.target.id] = text
    return found


def _spelled_out(name: str) -> str:
    """A scoring figure without a comment: its name in words (the section's text says what the part scores)."""
    words = name.split("_")
    if words[-1] in ("s", "pct", "ms", "r", "points", "bytes"):
        words = words[:-1]
    return " ".join(words).replace("bos", "break of structure").replace("choch", "change of character")


def _unit(name: str) -> str:
    return next((unit for suffix, unit in UNITS if name.endswith(suffix)), "")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    return value


def entries(settings: Any = None, prefix: str = "") -> Iterator[Entry]:
    settings = settings if settings is not None else AppSettings()
    comments = _comments(type(settings))
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value):
            yield from entries(value, f"{key}.")
            continue
        meaning = MEANINGS.get(key) or comments.get(field.name) or _spelled_out(field.name)
        yield Entry(key=key, default=_plain(value), unit=_unit(field.name), meaning=meaning)


def _sections(settings: Any = None, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Each table with the first paragraph of its class's docstring (when it has its own)."""
    settings = settings if settings is not None else AppSettings()
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if dataclasses.is_dataclass(value):
            doc = type(value).__doc__ or ""
            own = doc if doc and not doc.startswith(type(value).__name__ + "(") else ""
            yield f"{prefix}{field.name}", " ".join(own.strip().split("\n\n")[0].split())
            yield from _sections(value, f"{prefix}{field.name}.")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def render() -> str:
    out = [
        "# Settings reference",
        "",
        "<!-- generated by `python -m app.settings_doc > docs/settings.md`; do not edit by hand -->",
        "",
        "DTMS Desk reads one TOML file: `dtms.toml` in the user config directory (see the README for where that",
        "is on each system), or the file given with `--config`. Every key is optional; a missing key keeps its",
        "default, an unknown key or a value out of range stops the program with a message naming the key.",
        "The window's Settings dialog writes the same file. Example:",
        "",
        "```toml",
        "[api]",
        "port = 8001",
        "",
        "[engine.adoption]",
        'policy = "none"',
        "",
        "[engine.protection]",
        "breakeven_r = 1.0",
        "```",
        "",
    ]
    section = None
    intros = dict(_sections())
    for entry in entries():
        table, _, name = entry.key.rpartition(".")
        if table != section:
            out += ["", f"## [{table}]", ""]
            if intros.get(table):
                out += [intros[table], ""]
            out += ["| key | default | unit | meaning |", "| --- | --- | --- | --- |"]
            section = table
        meaning = entry.meaning.replace("|", "\\|")
        out.append(f"| `{name}` | `{_toml(entry.default)}` | {entry.unit} | {meaning} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
