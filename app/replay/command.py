"""``python main.py replay ...``: the replay subcommand (arguments, progress on stdout, the three files)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from app.engine.settings import EngineSettings
from app.errors import RejectedError
from app.replay.inputs import DEFAULT_MAX_GAP_HOURS, ReplayInputError
from app.replay.report import render_report
from app.replay.results import summary, write_outputs
from app.replay.runner import ReplayProgress, ReplayRequest, ReplayResult, run_replay
from app.terminal.sim.market.replay import DEFAULT_TICKS_PER_MINUTE

logger = logging.getLogger(__name__)

DEFAULT_CYCLE_SECONDS = 60.0


def add_replay_parser(subparsers: argparse._SubParsersAction, summary: str) -> None:
    p = subparsers.add_parser(
        "replay", help=summary,
        description="Replay bars through the simulated terminal with the real engine managing each trade, next "
                    "to the same trade left to its SL and TP. Writes DIR/trades.csv, DIR/summary.json and "
                    "DIR/report.html.")  # fmt: skip
    p.add_argument(
        "--bars",
        action="append",
        default=[],
        metavar="SYMBOL=PATH",
        help="bars of one symbol: MT5's CSV export or Date,Open,High,Low,Close,Volume (repeatable)",
    )
    p.add_argument(
        "--history",
        type=float,
        metavar="DAYS",
        help="on a real terminal: replay the account's closed trades of the last DAYS on its M1 bars",
    )
    p.add_argument("--trades", type=Path, help="CSV of open_time,symbol,direction,volume,sl,tp[,entry]")
    p.add_argument("--entries", type=int, default=0, help="generate N entries (SL 1.5 x ATR, TP 3 x ATR)")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated entries and the tick paths")
    p.add_argument("--spec", type=Path, help="TOML file of symbol specifications (default: the presets)")
    p.add_argument("--out", type=Path, required=True, help="output folder (replaced whole when complete)")
    p.add_argument(
        "--cycle-seconds",
        type=float,
        default=DEFAULT_CYCLE_SECONDS,
        help=f"simulated seconds between two fast cycles while a trade is open (default {DEFAULT_CYCLE_SECONDS:g})",
    )
    p.add_argument(
        "--ticks-per-minute",
        type=int,
        default=DEFAULT_TICKS_PER_MINUTE,
        help=f"ticks made in each replayed minute (default {DEFAULT_TICKS_PER_MINUTE})",
    )
    p.add_argument(
        "--max-gap-hours",
        type=float,
        default=DEFAULT_MAX_GAP_HOURS,
        help=f"longest gap between bars accepted (default {DEFAULT_MAX_GAP_HOURS:g})",
    )
    p.add_argument(
        "--part",
        default="0:1",
        metavar="FROM:TO",
        help="keep trades opening in this fraction of the data's span, e.g. 0:0.6 (default 0:1)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayCommand:
    request: ReplayRequest
    out: Path
    quiet: bool = False
    #: ``--history DAYS``: inputs come from the terminal (``terminal`` is the program's TerminalSpec)
    history_days: float | None = None
    terminal: object = None


def build_command(args: argparse.Namespace, settings: EngineSettings, terminal: object = None) -> ReplayCommand:
    if not args.bars and args.history is None:
        raise ReplayInputError(
            "--bars", None, "no bars given", "add --bars SYMBOL=PATH (repeatable), or --history DAYS on a real terminal"
        )
    if args.history is not None and args.history <= 0:
        raise ReplayInputError("--history", None, f"{args.history:g} days", "give a positive number of days")
    bars: dict[str, Path] = {}
    for item in args.bars:
        symbol, sep, path = item.partition("=")
        if not sep or not symbol.strip() or not path.strip():
            raise ReplayInputError("--bars", None, f"{item!r} is not SYMBOL=PATH", "write --bars EURUSD=eurusd.csv")
        bars[symbol.strip()] = Path(path.strip())
    try:
        lo, hi = (float(v) for v in args.part.split(":"))
    except ValueError:
        raise ReplayInputError("--part", None, f"{args.part!r}", "write FROM:TO fractions, e.g. 0.6:1") from None
    if not 0 <= lo < hi <= 1:
        raise ReplayInputError("--part", None, f"{args.part!r} is not within 0:1", "write e.g. 0:0.6 or 0.6:1")
    if args.cycle_seconds <= 0 or args.ticks_per_minute < 4 or args.ticks_per_minute > 1000:
        raise ReplayInputError(
            "--cycle-seconds/--ticks-per-minute",
            None,
            "out of range",
            "give a positive cycle and 4 to 1000 ticks per minute",
        )
    request = ReplayRequest(
        bars=bars,
        trades_csv=args.trades,
        entries=args.entries,
        seed=args.seed,
        spec_file=args.spec,
        settings=settings,
        cycle_seconds=args.cycle_seconds,
        ticks_per_minute=args.ticks_per_minute,
        max_gap_hours=args.max_gap_hours,
        part=(lo, hi),
    )
    return ReplayCommand(request=request, out=args.out, quiet=args.quiet, history_days=args.history, terminal=terminal)


def inputs_meta(request: ReplayRequest) -> dict:
    """What the files say about how they were made (no wall-clock figures: identical runs give identical files)."""
    return {
        "bars": {name: str(path) for name, path in sorted(request.bars.items())},
        "trades": str(request.trades_csv) if request.trades_csv else f"{request.entries} generated",
        "seed": request.seed, "cycle_seconds": request.cycle_seconds, "ticks_per_minute": request.ticks_per_minute,
        "part": list(request.part),
    }  # fmt: skip


def save(result: ReplayResult, out: Path) -> tuple[Path, dict]:
    data = summary(result.trades, inputs_meta(result.request))
    data["inputs"]["simulated_hours"] = round(result.sim_hours, 2)
    report = render_report(result.trades, result.journals, data)
    return write_outputs(out, result.trades, data, report), data


def _print_progress(p: ReplayProgress) -> None:
    print(
        f"\rreplay {p.fraction * 100:5.1f} %  {p.sim_hours:8.1f} simulated h  trades {p.trades_done}/{p.trades}",
        end="",
        flush=True,
    )


async def history_request(request: ReplayRequest, terminal: object, days: float, folder: Path) -> ReplayRequest:
    """``request`` with the account's closed trades of the last ``days`` and their bars, fetched through a
    gateway on ``terminal`` (a TerminalSpec) into ``folder``."""
    from app.replay.history import fetch_history
    from app.terminal.gateway import Gateway

    gateway = Gateway(terminal)  # type: ignore[arg-type]
    try:
        await gateway.start()
        if not await gateway.initialize():
            raise ReplayInputError(
                "--history",
                None,
                f"the terminal did not connect ({gateway.last_connect_error})",
                "start MetaTrader 5 and log in, or pass --terminal",
            )
        # a day of margin: the broker's server time runs ahead of UTC on most servers
        bars, trades = await fetch_history(gateway, days + 1, folder, now=time.time() + 86400)
    finally:
        await gateway.close()
    return replace(request, bars=bars, trades_csv=trades, entries=0)


def run_command(command: ReplayCommand) -> int:
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="dtms-history-") as folder:
            request = command.request
            if command.history_days is not None:
                request = asyncio.run(history_request(request, command.terminal, command.history_days, Path(folder)))
            result = asyncio.run(run_replay(request, progress=None if command.quiet else _print_progress))
        out, data = save(result, command.out)
    except RejectedError as error:
        print(f"\nreplay: {error}", file=sys.stderr)
        return 2
    wall = time.perf_counter() - started
    if not command.quiet:
        print()
    u, m, d = data["unmanaged"], data["managed"], data["difference_managed_minus_unmanaged"]
    print(
        f"{len(result.trades)} trades, {result.sim_hours:.0f} simulated hours in {wall:.1f} s "
        f"({result.sim_hours / max(wall, 1e-9):.0f} simulated h per second)"
    )
    print(f"{'':14}{'unmanaged':>12}{'managed':>12}{'difference':>12}")
    for label, key in (
        ("total profit", "total_profit"),
        ("mean R", "mean_r"),
        ("median R", "median_r"),
        ("win rate", "win_rate"),
        ("profit factor", "profit_factor"),
        ("worst R", "worst_r"),
        ("max drawdown", "max_drawdown"),
    ):
        cells = [u[key], m[key], d[key]]
        print(f"{label:14}" + "".join(f"{'-' if c is None else c:>12}" for c in cells))
    print(f"written: {out / 'trades.csv'}, {out / 'summary.json'}, {out / 'report.html'}")
    return 0
