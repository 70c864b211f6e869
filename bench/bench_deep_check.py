"""Deep-check cost: one trade alone, and a bar close of 1,000 trades over 20 symbols with the analysis shared
per symbol. Measures ``DefenseDeepCheck.after_fast_cycle`` (scheduling, analysis, scoring, warning decay)
and the state machine's ``decide`` on its own. The trades are watched, not owned, so no order is sent and
``decide`` is not called inside the cycle: add its figure to the per-trade cost of a DTMS-owned trade.

Symbols whose ticks carry trade flags also fetch the trade ticks of their closed bars once per bar close and
read the order flow from them: the bar close is measured with none of them and with ``--flow-symbols`` of
them (about 4,000 trade ticks an hour each, like the simulator's BTCUSD).

Run: ``.venv/bin/python bench/bench_deep_check.py [--trades 1000] [--symbols 20] [--flow-symbols 4]
[--rounds 5]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from types import SimpleNamespace
from typing import Any

import numpy as np

from app.engine.broker import SymbolRules
from app.engine.deep_check import DefenseDeepCheck
from app.engine.defense.rules import DefenseSettings, decide
from app.engine.events import EventBus
from app.engine.market_data import MarketData, SymbolData
from app.engine.model import Direction, Trade
from app.engine.rails import SafetyRails
from app.engine.recorder import Recorder
from app.engine.registry import group_by_symbol
from app.engine.scoring.score import score_trade_with
from app.engine.settings import EngineSettings
from app.terminal.constants import TICK_FLAG_BUY, TICK_FLAG_LAST, TICK_FLAG_SELL
from app.terminal.structs import RATES_DTYPE, TICKS_DTYPE

NOW = 1_767_000_000 - 1_767_000_000 % 900 + 10 * 900 + 1
SETTINGS = EngineSettings()


def bars(rng: np.random.Generator, count: int, period: int, start: float) -> np.ndarray:
    rows = np.zeros(count + 1, dtype=RATES_DTYPE)
    rows["time"] = (NOW - NOW % period) - period * np.arange(count, -1, -1)
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.0007, count + 1)))
    opens = np.r_[start, close[:-1]]
    rows["open"], rows["close"] = opens, close
    rows["high"] = np.maximum(opens, close) + start * 0.0003
    rows["low"] = np.minimum(opens, close) - start * 0.0003
    rows["tick_volume"] = rng.integers(20, 800, count + 1)
    return rows


class BenchGateway:
    """What the deep check asks of the terminal: a symbol's properties, and the trade ticks of the symbols
    that have trade flags."""

    def __init__(self, flow_symbols: set[str], rng: np.random.Generator) -> None:
        self._flow = flow_symbols
        self._ticks = {name: trade_ticks(rng) for name in flow_symbols}

    async def symbol_info(self, symbol: str) -> Any:
        return SimpleNamespace(last=1.1 if symbol in self._flow else 0.0, chart_mode=0)

    async def call(self, fn: str, symbol: str, *args: Any) -> Any:
        return SimpleNamespace(ok=True, value=self._ticks[symbol], error=(1, "Success"))


def trade_ticks(rng: np.random.Generator, per_hour: int = 4000) -> np.ndarray:
    ticks = np.zeros(per_hour, dtype=TICKS_DTYPE)
    ticks["time_msc"] = np.sort(rng.integers((NOW - 3600) * 1000, NOW * 1000, per_hour))
    ticks["time"] = ticks["time_msc"] // 1000
    ticks["flags"] = np.where(rng.random(per_hour) < 0.5, TICK_FLAG_BUY, TICK_FLAG_SELL) | TICK_FLAG_LAST
    ticks["volume_real"] = rng.uniform(0.01, 2.0, per_hour)
    return ticks


class NullJournal:
    """Keeps nothing: the benchmark measures the check, not the database."""

    async def save_trades(self, trades: Any) -> None:
        return None


def market(symbols: int, rng: np.random.Generator) -> MarketData:
    data = MarketData(SimpleNamespace())
    for i in range(symbols):
        name = f"SYM{i:02d}"
        info = SimpleNamespace(
            name=name,
            digits=5,
            point=1e-5,
            trade_tick_size=1e-5,
            trade_stops_level=0,
            trade_freeze_level=0,
            volume_min=0.01,
            volume_max=100.0,
            volume_step=0.01,
            filling_mode=2,
        )
        symbol = SymbolData(
            rules=SymbolRules.from_symbol_info(info), m5=bars(rng, 600, 300, 1.1), m15=bars(rng, 300, 900, 1.1)
        )
        symbol.bid = float(symbol.m5["close"][-1])
        symbol.ask = symbol.bid + 0.0001
        symbol.tick_time = NOW
        data._symbols[name] = symbol
    return data


def trades(count: int, symbols: int) -> list[Trade]:
    return [
        Trade(
            ticket=i + 1,
            symbol=f"SYM{i % symbols:02d}",
            direction=Direction.BUY if i % 2 else Direction.SELL,
            entry=1.1,
            volume=1.0,
            sl=1.09 if i % 2 else 1.11,
            tp=0.0,
            r=0.01,
            managed_by="watcher",
        )
        for i in range(count)
    ]


async def bar_close(
    count: int, symbols: int, rng: np.random.Generator, flow_symbols: int = 0
) -> tuple[float, DefenseDeepCheck]:
    data = market(symbols, rng)
    gateway = BenchGateway({f"SYM{i:02d}" for i in range(flow_symbols)}, rng)
    check = DefenseDeepCheck(
        gateway=gateway,
        market=data,
        actions=SimpleNamespace(),
        rails=SafetyRails(SETTINGS.rails),
        recorder=Recorder(NullJournal(), EventBus(), lambda: NOW),
        settings=lambda: SETTINGS,
    )
    batch = trades(count, symbols)
    positions = {t.ticket: None for t in batch}
    started = time.perf_counter()
    await check.after_fast_cycle(group_by_symbol(batch), positions, NOW)
    return time.perf_counter() - started, check


async def decide_only(count: int, symbols: int, rng: np.random.Generator) -> float:
    data = market(symbols, rng)
    recorder = Recorder(NullJournal(), EventBus(), lambda: NOW)
    check = DefenseDeepCheck(
        gateway=BenchGateway(set(), rng),
        market=data,
        actions=SimpleNamespace(),
        rails=SafetyRails(SETTINGS.rails),
        recorder=recorder,
        settings=lambda: SETTINGS,
    )
    batch = trades(count, symbols)
    scores = [
        score_trade_with(
            await check.analysis(t.symbol, data.get(t.symbol), NOW),
            t.direction,
            bid=data.get(t.symbol).bid,
            ask=data.get(t.symbol).ask,
        )
        for t in batch
    ]
    settings = DefenseSettings()
    started = time.perf_counter()
    for trade, score in zip(batch, scores):
        decide(trade, score, NOW, settings, hedging_account=True, atr=0.001)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--flow-symbols", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    single = [asyncio.run(bar_close(1, 1, rng))[0] for _ in range(args.rounds)]
    single_flow = [asyncio.run(bar_close(1, 1, rng, flow_symbols=1))[0] for _ in range(args.rounds)]
    many, many_flow = [], []
    for _ in range(args.rounds):
        seconds, check = asyncio.run(bar_close(args.trades, args.symbols, rng))
        many.append(seconds)
        seconds, flow_check = asyncio.run(bar_close(args.trades, args.symbols, rng, flow_symbols=args.flow_symbols))
        many_flow.append(seconds)
    decisions = [asyncio.run(decide_only(args.trades, args.symbols, rng)) for _ in range(args.rounds)]
    print(
        f"one trade alone (analysis + score): median {statistics.median(single) * 1000:.2f} ms; with order flow "
        f"from 4,000 trade ticks: {statistics.median(single_flow) * 1000:.2f} ms"
    )
    for label, runs, used in (("", many, check), (f", {args.flow_symbols} with order flow", many_flow, flow_check)):
        median = statistics.median(runs)
        print(
            f"{args.trades} trades over {args.symbols} symbols{label} at one bar close: "
            f"median {median * 1000:.1f} ms ({median / args.trades * 1e6:.0f} us per trade; "
            f"{used.analyses_computed} analyses and {used.tick_fetches} tick fetches for {used.checks} checks)"
        )
    print(
        f"decide() alone for {args.trades} trades: median {statistics.median(decisions) * 1e6 / args.trades:.2f} "
        f"us per trade"
    )


if __name__ == "__main__":
    main()
