"""The evidence behind the engine's defaults (docs/replay.md): replays of the EURUSD H1 sample that
backtesting.py ships, read from the installed package, and of the simulator's own market.

    .venv/bin/python bench/replay_evidence.py fit [VARIANT ...]      # fit part (first 60 % of the data)
    .venv/bin/python bench/replay_evidence.py heldout VARIANT ...    # held-out part (last 40 %)
    .venv/bin/python bench/replay_evidence.py sim VARIANT ...        # the simulator's own market

Each run prints one JSON line per variant (its summary and the count of actions that could not act). Every
variant changes one figure of the defaults as they were before this evidence ("defaults": breakeven at 1 R);
"breakeven_r=1.5" is today's default. Variants are compared on the fit part only; the held-out part is
replayed once for the defaults before and once for the chosen variant.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import importlib.resources
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine.model import ActionOutcome
from app.engine.settings import EngineSettings
from app.replay.command import inputs_meta
from app.replay.results import summary
from app.replay.runner import ReplayRequest, run_replay
from app.terminal import constants as c
from app.terminal.sim.terminal import SimulatedTerminal

ENTRIES = 300
SEED = 1
CYCLE_SECONDS = 300.0
FIT = (0.0, 0.6)
HELD_OUT = (0.6, 1.0)


def _with(section: str, **values: float) -> Callable[[EngineSettings], EngineSettings]:
    def apply(s: EngineSettings) -> EngineSettings:
        return dataclasses.replace(s, **{section: dataclasses.replace(getattr(s, section), **values)})

    return apply


#: The defaults before the evidence (breakeven at 1 R); every variant changes one thing from them.
_BEFORE = _with("protection", breakeven_r=1.0)

VARIANTS: dict[str, Callable[[EngineSettings], EngineSettings]] = {
    "defaults": lambda s: s,
    "tighten_r=0.6": _with("defense", tighten_r=0.6),
    "tighten_r=1.0": _with("defense", tighten_r=1.0),
    "warning_l1_score=-3": _with("defense", warning_l1_score=-3.0, l1_again_score=-3.0),
    "breakeven_r=1.5": _with("protection", breakeven_r=1.5),
    "breakeven_r=2.0": _with("protection", breakeven_r=2.0),
    "trail_atr_multiple=3": _with("protection", trail_atr_multiple=3.0),
    "partial_r=2.0": _with("protection", partial_r=2.0),
    "close_fraction=1.0": _with("defense", close_fraction=1.0),
    "l2_in_loss=tighten": _with("defense", l2_in_loss="tighten"),
}


def sample() -> Path:
    return Path(str(importlib.resources.files("backtesting") / "test" / "EURUSD.csv"))


def simulator_bars(folder: Path, days: int = 200) -> Path:
    """H1 bars of the simulator's own seeded EURUSD over ``days``, as MT5 exports them (weekends included:
    the simulated market never closes)."""
    start = datetime(2025, 1, 6, tzinfo=UTC).timestamp()
    terminal = SimulatedTerminal(
        data_dir=None, seed=SEED, speed=0.0, start_time=start + days * 86400, history_days=days
    )
    terminal.initialize()
    rates = terminal.copy_rates_range("EURUSD", c.TIMEFRAME_H1, int(start), int(start + days * 86400 - 3600))
    rows = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for r in rates:
        when = datetime.fromtimestamp(int(r["time"]), tz=UTC)
        rows.append(
            f"{when:%Y.%m.%d}\t{when:%H:%M:%S}\t{r['open']:.5f}\t{r['high']:.5f}\t{r['low']:.5f}\t"
            f"{r['close']:.5f}\t{int(r['tick_volume'])}\t0\t{int(r['spread'])}"
        )
    path = folder / "sim_eurusd_h1.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


async def one(name: str, bars: Path, part: tuple[float, float]) -> dict:
    settings = VARIANTS[name](_BEFORE(EngineSettings()))
    request = ReplayRequest(
        bars={"EURUSD": bars}, entries=ENTRIES, seed=SEED, settings=settings, cycle_seconds=CYCLE_SECONDS, part=part
    )
    started = time.perf_counter()
    result = await run_replay(request)
    data = summary(result.trades, inputs_meta(request))
    refused = collections.Counter(
        f"{r.kind.value} {r.outcome.value}"
        for records in result.actions.values()
        for r in records
        if r.outcome is not ActionOutcome.SUCCESS
    )
    return {
        "variant": name,
        "part": list(part),
        "trades": len(result.trades),
        "unmanaged": data["unmanaged"],
        "managed": data["managed"],
        "difference": data["difference_managed_minus_unmanaged"],
        "not_successful": dict(refused),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("where", choices=["fit", "heldout", "sim"])
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bars = simulator_bars(Path(tmp)) if args.where == "sim" else sample()
        part = {"fit": FIT, "heldout": HELD_OUT, "sim": (0.0, 1.0)}[args.where]
        for name in args.variants:
            print(json.dumps({"where": args.where, **asyncio.run(one(name, bars, part))}), flush=True)


if __name__ == "__main__":
    main()
