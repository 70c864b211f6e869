"""Deep-check cost: one trade alone, and a bar close of 1,000 trades over 20 symbols with the analysis shared
per symbol. Measures ``DefenseDeepCheck.after_fast_cycle`` (scheduling, analysis, scoring, warning decay)
and the state machine's ``decide`` on its own. The trades are watched, not owned, so no order is sent and
``decide`` is not called inside the cycle: add its figure to the per-trade cost of a DTMS-owned trade.

Run: ``.venv/bin/python bench/bench_deep_check.py [--trades 1000] [--symbols 20] [--rounds 5]``.
Prints figures; asserts nothing.
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
from app.engine.defense import DefenseSettings, decide
from app.engine.events import EventBus
from app.engine.market_data import MarketData, SymbolData
from app.engine.model import Direction, Trade
from app.engine.rails import SafetyRails
from app.engine.recorder import Recorder
from app.engine.scoring import score_trade_with
from app.engine.settings import EngineSettings
from app.terminal.structs import RATES_DTYPE

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


class NullJournal:
    """Keeps nothing: the benchmark measures the check, not the database."""

    async def save_trades(self, trades: Any) -> None:
        return None


def market(symbols: int, rng: np.random.Generator) -> MarketData:
    data = MarketData(SimpleNamespace())
    for i in range(symbols):
        name = f"SYM{i:02d}"
        info = SimpleNamespace(name=name, digits=5, point=1e-5, trade_tick_size=1e-5, trade_stops_level=0,
                               trade_freeze_level=0, volume_min=0.01, volume_max=100.0, volume_step=0.01,
                               filling_mode=2)
        symbol = SymbolData(rules=SymbolRules.from_symbol_info(info), m5=bars(rng, 600, 300, 1.1),
                            m15=bars(rng, 300, 900, 1.1))
        symbol.bid = float(symbol.m5["close"][-1])
        symbol.ask = symbol.bid + 0.0001
        symbol.tick_time = NOW
        data._symbols[name] = symbol
    return data


def trades(count: int, symbols: int) -> list[Trade]:
    return [Trade(ticket=i + 1, symbol=f"SYM{i % symbols:02d}", direction=Direction.BUY if i % 2 else Direction.SELL,
                  entry=1.1, volume=1.0, sl=1.09 if i % 2 else 1.11, tp=0.0, r=0.01, managed_by="watcher")
            for i in range(count)]


async def bar_close(count: int, symbols: int, rng: np.random.Generator) -> tuple[float, DefenseDeepCheck]:
    data = market(symbols, rng)
    check = DefenseDeepCheck(gateway=SimpleNamespace(), market=data, actions=SimpleNamespace(),
                             rails=SafetyRails(SETTINGS.rails),
                             recorder=Recorder(NullJournal(), EventBus(), lambda: NOW),
                             settings=lambda: SETTINGS)
    batch = trades(count, symbols)
    positions = {t.ticket: None for t in batch}
    started = time.perf_counter()
    await check.after_fast_cycle(batch, positions, NOW)
    return time.perf_counter() - started, check


def decide_only(count: int, symbols: int, rng: np.random.Generator) -> float:
    data = market(symbols, rng)
    check = DefenseDeepCheck(gateway=SimpleNamespace(), market=data, actions=SimpleNamespace(), rails=SafetyRails(
        SETTINGS.rails), recorder=Recorder(NullJournal(), EventBus(), lambda: NOW), settings=lambda: SETTINGS)
    batch = trades(count, symbols)
    scores = [score_trade_with(check.analysis(t.symbol, data.get(t.symbol), NOW), t.direction,
                               bid=data.get(t.symbol).bid, ask=data.get(t.symbol).ask) for t in batch]
    settings = DefenseSettings()
    started = time.perf_counter()
    for trade, score in zip(batch, scores):
        decide(trade, score, NOW, settings, hedging_account=True, atr=0.001)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    single = [asyncio.run(bar_close(1, 1, rng))[0] for _ in range(args.rounds)]
    many = []
    for _ in range(args.rounds):
        seconds, check = asyncio.run(bar_close(args.trades, args.symbols, rng))
        many.append(seconds)
    decisions = [decide_only(args.trades, args.symbols, rng) for _ in range(args.rounds)]
    print(f"one trade alone (analysis + score): median {statistics.median(single) * 1000:.2f} ms")
    print(f"{args.trades} trades over {args.symbols} symbols at one bar close: median "
          f"{statistics.median(many) * 1000:.1f} ms ({statistics.median(many) / args.trades * 1e6:.0f} us per trade; "
          f"{check.analyses_computed} analyses for {check.checks} checks)")
    print(f"decide() alone for {args.trades} trades: median {statistics.median(decisions) * 1e6 / args.trades:.2f} "
          f"us per trade")


if __name__ == "__main__":
    main()
