"""Deep-check scoring cost: per trade when each trade is analysed alone, and for a whole bar close with the
analysis shared per symbol (1,000 trades over 20 symbols by default).

Synthetic random-walk markets: 600 M5 and 300 M15 bars per symbol (the registration backfill), plus an hour
of ticks with trade flags for half of the symbols.

Run: ``.venv/bin/python bench/bench_scoring.py [--trades 1000] [--symbols 20] [--rounds 5]``.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from app.engine.model import Direction
from app.engine.scoring.score import ScoringSettings, SymbolAnalysis, score_trade, score_trade_with
from app.terminal.constants import TICK_FLAG_BID, TICK_FLAG_BUY, TICK_FLAG_SELL
from app.terminal.structs import RATES_DTYPE, TICKS_DTYPE

NOW = 1_767_000_000 - 1_767_000_000 % 900 + 10 * 900  # aligned to M15
TICKS_PER_SYMBOL = 3_600


def random_walk(rng: np.random.Generator, count: int, period: int, start: float) -> np.ndarray:
    """``count`` closed bars ending at NOW plus the forming bar, as the terminal returns them."""
    n = count + 1
    bars = np.zeros(n, dtype=RATES_DTYPE)
    bars["time"] = NOW - period * np.arange(count, -1, -1)  # the last row, opening at NOW, is still forming
    close = start * np.exp(np.cumsum(rng.normal(0.0, 0.0007 * np.sqrt(period / 300), n)))
    opens = np.r_[start, close[:-1]]
    bars["open"], bars["close"] = opens, close
    wick = start * 0.0004 * rng.random((2, n))
    bars["high"] = np.maximum(opens, close) + wick[0]
    bars["low"] = np.minimum(opens, close) - wick[1]
    bars["tick_volume"] = rng.integers(20, 800, n)
    return bars


def random_ticks(rng: np.random.Generator, price: float) -> np.ndarray:
    ticks = np.zeros(TICKS_PER_SYMBOL, dtype=TICKS_DTYPE)
    ticks["time_msc"] = np.sort(rng.integers((NOW - 3600) * 1000, NOW * 1000, TICKS_PER_SYMBOL))
    ticks["time"] = ticks["time_msc"] // 1000
    ticks["bid"] = price
    ticks["ask"] = price * 1.0001
    ticks["flags"] = rng.choice([TICK_FLAG_BUY, TICK_FLAG_SELL, TICK_FLAG_BID], TICKS_PER_SYMBOL)
    ticks["volume_real"] = rng.integers(1, 20, TICKS_PER_SYMBOL)
    return ticks


def timed(fn: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``rounds`` runs, in seconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(42)
    settings = ScoringSettings()
    names = [f"SYM{i:02d}" for i in range(args.symbols)]
    markets = {}
    for i, name in enumerate(names):
        start = 1.0 + i * 0.37
        m5 = random_walk(rng, settings.m5_bars, 300, start)
        m15 = random_walk(rng, settings.m15_bars, 900, start)
        flagged = i % 2 == 0
        markets[name] = (m5, m15, random_ticks(rng, start) if flagged else None, flagged)
    trades = [(names[k % args.symbols], Direction.BUY if k % 3 else Direction.SELL) for k in range(args.trades)]

    def analyse(name: str) -> SymbolAnalysis:
        m5, m15, ticks, flagged = markets[name]
        return SymbolAnalysis.compute(m5, m15, ticks, name, NOW, settings, flagged)

    def each_trade_alone() -> None:
        for name, direction in trades:
            m5, m15, ticks, flagged = markets[name]
            score_trade(
                direction=direction,
                m5=m5,
                m15=m15,
                ticks=ticks,
                bid=1.0,
                ask=1.0001,
                symbol=name,
                now=NOW,
                settings=settings,
                has_trade_flags=flagged,
            )

    analyses: dict[str, SymbolAnalysis] = {}

    def analyse_all() -> None:
        analyses.clear()
        analyses.update((name, analyse(name)) for name in names)

    def score_all() -> None:
        for name, direction in trades:
            score_trade_with(analyses[name], direction, bid=1.0, ask=1.0001)

    def shared() -> None:
        analyse_all()
        score_all()

    analyse_all()  # warm-up, and the analyses score_all uses
    alone = timed(each_trade_alone, max(1, args.rounds // 2))
    analysis_only = timed(analyse_all, args.rounds)
    scoring_only = timed(score_all, args.rounds)
    whole = timed(shared, args.rounds)
    print(
        f"synthetic markets: {args.symbols} symbols x ({settings.m5_bars} M5 + {settings.m15_bars} M15 bars), "
        f"{TICKS_PER_SYMBOL} ticks on every other symbol; {args.trades} trades; median of {args.rounds} rounds"
    )
    print(
        f"deep check, each trade analysed alone:  {alone / args.trades * 1e3:7.3f} ms per trade, "
        f"{alone * 1e3:8.1f} ms for all {args.trades}"
    )
    print(f"symbol analysis (indicators, regime):   {analysis_only / args.symbols * 1e3:7.3f} ms per symbol")
    print(f"score from a shared analysis (verdict kept): {scoring_only / args.trades * 1e6:5.1f} us per trade")
    print(
        f"bar close, analysis shared per symbol:  {whole * 1e3:7.1f} ms for {args.trades} trades "
        f"({whole / args.trades * 1e6:.1f} us per trade, {alone / whole:.0f}x less than alone)"
    )


if __name__ == "__main__":
    main()
