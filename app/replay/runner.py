"""Run a replay: the real engine manages each trade on a simulated terminal whose market plays given bars.

For every trade two positions open on the same tick: one registered with DTMS (the managed side), and a twin
DTMS never sees (``AdoptionPolicy.NONE``), left to its SL and TP (the unmanaged side). The broker rules that
fill, stop and close both are the simulator's, the management is the engine's own (fast cycle, deep checks,
executor), on the simulator's clock, stepped ``cycle_seconds`` at a time while any trade is open and jumped
straight to the next trade otherwise. SL and TP are checked by the simulated server on every tick.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.engine.engine import Engine
from app.engine.model import ActionRecord, Direction
from app.engine.registry import Registration
from app.engine.settings import AdoptionPolicy, AdoptionSettings, EngineSettings
from app.replay.inputs import (
    DEFAULT_MAX_GAP_HOURS,
    ReplayInputError,
    SourceBars,
    read_bars,
)
from app.replay.outcome import JournalLine, TradeResult, collect
from app.replay.specs import replay_specs
from app.replay.timeline import Timeline, build_timeline, build_track
from app.replay.trades import TradeInput, generate_entries, read_trades
from app.store.repository import Repository
from app.terminal.gateway import Gateway
from app.terminal.sim.market.replay import DEFAULT_TICKS_PER_MINUTE
from app.terminal.sim.terminal import SimulatedTerminal
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.transport import InProcessTransport

logger = logging.getLogger(__name__)

MANAGED_MAGIC = 0
TWIN_MAGIC = 424242
_BALANCE = 10_000_000.0


class ReplayCancelled(Exception):
    """The caller asked the replay to stop; nothing was written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayRequest:
    bars: dict[str, Path]
    trades_csv: Path | None = None
    entries: int = 0
    seed: int = 1
    spec_file: Path | None = None
    settings: EngineSettings | None = None  # None: the defaults
    cycle_seconds: float = 60.0
    ticks_per_minute: int = DEFAULT_TICKS_PER_MINUTE
    max_gap_hours: float = DEFAULT_MAX_GAP_HOURS
    #: keep only trades opening in this fraction of the data's time span (for fitting and held-out checks)
    part: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayProgress:
    fraction: float
    trades_done: int
    trades: int
    sim_hours: float


@dataclass(slots=True, kw_only=True)
class ReplayResult:
    request: ReplayRequest
    trades: list[TradeResult]
    journals: dict[int, list[JournalLine]]
    actions: dict[int, list[ActionRecord]]  # each trade's journal as the engine keeps it
    sim_hours: float
    wall_seconds: float
    sources: dict[str, str]


@dataclass(slots=True, kw_only=True)
class _Open:
    trade: TradeInput
    sim_time: float
    ticket: int = 0
    twin: int = 0


def load_inputs(request: ReplayRequest) -> tuple[dict[str, SourceBars], list[TradeInput]]:
    """Read and check every input file (bars, specs, trades) before anything runs."""
    if not request.bars:
        raise ReplayInputError("--bars", None, "no bars given", "add --bars SYMBOL=PATH (repeatable)")
    sources = {name: read_bars(name, path, max_gap_hours=request.max_gap_hours) for name, path in request.bars.items()}
    specs = replay_specs(list(sources), request.spec_file, bars=request.bars)
    if request.trades_csv is not None:
        trades = read_trades(request.trades_csv, sources)
    elif request.entries > 0:
        trades = generate_entries(
            sources,
            request.entries,
            request.seed,
            digits={n: s.digits for n, s in specs.items()},
            spread={n: _typical_spread(sources[n], s.spread_points) * s.point for n, s in specs.items()},
        )
    else:
        raise ReplayInputError("--trades", None, "no trades given", "add --trades FILE or --entries N --seed S")
    first = min(float(s.time[0]) for s in sources.values())
    end = max(float(s.end) for s in sources.values())
    lo, hi = request.part
    kept = [t for t in trades if first + lo * (end - first) <= t.open_time < first + hi * (end - first)]
    return sources, kept


def _typical_spread(source: SourceBars, default: int) -> float:
    if source.spread is not None and (source.spread > 0).any():
        return float(sorted(source.spread[source.spread > 0])[int((source.spread > 0).sum()) // 2])
    return float(default)


async def _no_sleep(_: float) -> None:
    return None


async def run_replay(
    request: ReplayRequest,
    *,
    progress: Callable[[ReplayProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> ReplayResult:
    started = time.perf_counter()
    sources, trades = load_inputs(request)
    specs = replay_specs(list(sources), request.spec_file)
    timeline = build_timeline(list(sources.values()))
    tracks = {
        name: build_track(
            src,
            timeline,
            seed=request.seed,
            digits=specs[name].digits,
            spread_points=specs[name].spread_points,
            ticks_per_minute=request.ticks_per_minute,
        )
        for name, src in sources.items()
    }
    terminal = SimulatedTerminal(
        data_dir=None,
        seed=request.seed,
        speed=0.0,
        start_time=(timeline.sim_first + 1) * 60,
        balance=_BALANCE,
        symbols=specs,
        history_days=1 / 1440,
        replay=tracks,
    )
    settings = replace(request.settings or EngineSettings(), adoption=AdoptionSettings(policy=AdoptionPolicy.NONE))
    with tempfile.TemporaryDirectory(prefix="dtms-replay-") as tmp:
        repository = await Repository.open(Path(tmp) / "replay.sqlite3")
        gateway = Gateway(TerminalSpec(kind=TerminalKind.SIM), transport=InProcessTransport(terminal=terminal))
        engine = Engine(gateway=gateway, repository=repository, settings=settings, sleep=_no_sleep, autorun=False)
        try:
            if not await engine.start():
                raise RuntimeError(f"the replay engine did not start: {engine.lifecycle.reason}")
            opened = await _drive(terminal, engine, timeline, trades, request, progress, cancelled)
            results, journals, actions = await collect(terminal, engine, timeline, opened, specs)
        finally:
            await engine.stop()
            await gateway.close()
            await repository.close()
    sim_hours = (timeline.sim_end - timeline.sim_first) / 60.0
    return ReplayResult(
        request=request,
        trades=results,
        journals=journals,
        actions=actions,
        sim_hours=sim_hours,
        wall_seconds=time.perf_counter() - started,
        sources={n: s.path for n, s in sources.items()},
    )


async def _drive(
    terminal: Any,
    engine: Engine,
    timeline: Timeline,
    trades: list[TradeInput],
    request: ReplayRequest,
    progress: Callable[[ReplayProgress], None] | None,
    cancelled: Callable[[], bool],
) -> list[_Open]:
    pending = [_Open(trade=t, sim_time=timeline.to_sim(t.open_time)) for t in trades]
    pending.sort(key=lambda o: (o.sim_time, o.trade.trade_id))
    opened: list[_Open] = []
    end = timeline.sim_end * 60.0
    first = timeline.sim_first * 60.0
    step = float(request.cycle_seconds)
    next_report = 0.0
    nxt = 0
    now = float(terminal.control("now"))
    while True:
        if cancelled():
            raise ReplayCancelled()
        opening = nxt < len(pending) and pending[nxt].sim_time <= now
        while nxt < len(pending) and pending[nxt].sim_time <= now:
            _first_tick_at(terminal, pending[nxt])
            await _open(terminal, engine, pending[nxt])
            opened.append(pending[nxt])
            nxt += 1
        if opening:
            now = float(terminal.control("now"))
        # what the engine's last fast cycle saw (it reads every position, twins included)
        live = opening or bool(engine.cycle.positions)
        if progress is not None and time.perf_counter() >= next_report:
            next_report = time.perf_counter() + 0.2
            twins = sum(1 for p in engine.cycle.positions.values() if int(p.magic) == TWIN_MAGIC)
            progress(
                ReplayProgress(
                    fraction=min(1.0, (now - first) / max(end - first, 1.0)),
                    trades_done=max(len(opened) - twins, 0),
                    trades=len(pending),
                    sim_hours=(now - first) / 3600,
                )
            )
        if now >= end - 1:
            for position in terminal.positions_get() or ():
                terminal.control("close_position", ticket=int(position.ticket))
            await engine.run_fast_cycle()
            break
        if not live:
            if nxt >= len(pending):
                break
            target = max(pending[nxt].sim_time, now)
        else:
            target = min(now + step, end)
            if nxt < len(pending):
                target = min(target, max(pending[nxt].sim_time, now + 1.0))
        now = float(terminal.control("advance", seconds=target - now))
        await engine.run_fast_cycle()
    if progress is not None:
        progress(
            ReplayProgress(fraction=1.0, trades_done=len(pending), trades=len(pending), sim_hours=(end - first) / 3600)
        )
    return opened


def _first_tick_at(terminal: Any, item: _Open) -> None:
    """Move the clock to the symbol's first tick at or after the trade's open time (a trade opens on a tick)."""
    for _ in range(120):
        tick = terminal.symbol_info_tick(item.trade.symbol)
        if tick is not None and tick.time_msc >= item.sim_time * 1000:
            return
        terminal.control("advance", seconds=0.5)


async def _open(terminal: Any, engine: Engine, item: _Open) -> None:
    t = item.trade
    side = "BUY" if t.direction is Direction.BUY else "SELL"
    managed = terminal.control(
        "open_position",
        symbol=t.symbol,
        type=side,
        volume=t.volume,
        sl=t.sl,
        tp=t.tp,
        magic=MANAGED_MAGIC,
        comment=f"replay {t.trade_id}",
    )
    twin = terminal.control(
        "open_position",
        symbol=t.symbol,
        type=side,
        volume=t.volume,
        sl=t.sl,
        tp=t.tp,
        magic=TWIN_MAGIC,
        comment=f"replay {t.trade_id} twin",
    )
    for answer in (managed, twin):
        if answer["retcode"] != 10009:
            raise ReplayInputError(
                f"trade {t.trade_id}",
                None,
                f"the simulated broker refused to open it: {answer['retcode']} {answer['comment']}",
                "check the volume against the symbol's volume rules and the SL/TP distances",
            )
    item.ticket, item.twin = int(managed["order"]), int(twin["order"])
    await engine.register(Registration(ticket=item.ticket))
    await asyncio.sleep(0)
