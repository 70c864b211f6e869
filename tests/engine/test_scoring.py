"""Scoring rules on hand-built bars and ticks: every component's boundaries for BUY and SELL, confluence,
the explanation, the early-check signal, and that one shared analysis scores every trade on a symbol."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib

from app.engine.model import Direction
from app.engine.regime import MarketStructure, Volatility, regime_weights
from app.engine.scoring.score import (
    Confluence,
    Score,
    ScoringSettings,
    SymbolAnalysis,
    VwapState,
    confluence_of,
    early_check_wanted,
    score_trade,
    score_trade_with,
)
from app.engine.scoring.settings import DeltaRules, RegimeSettings, StructureRules
from app.engine.scoring.vocab import ComponentName as C
from app.terminal.constants import TICK_FLAG_BID, TICK_FLAG_BUY, TICK_FLAG_LAST, TICK_FLAG_SELL
from app.terminal.structs import RATES_DTYPE, TICKS_DTYPE

BUY, SELL = Direction.BUY, Direction.SELL
DAY, HOUR = 86_400, 3600
NOW = 20 * DAY + 10 * HOUR  # 10:00 UTC: London; the last M5 and M15 bars close exactly now
# no range regime (width is never below 0), so a flat test market keeps the base weights
SETTINGS = ScoringSettings(regime=RegimeSettings(range_width=0.0))


def rates(period: int, opens, highs, lows, closes, volumes=None) -> np.ndarray:
    n = len(closes)
    bars = np.zeros(n, dtype=RATES_DTYPE)
    bars["time"] = NOW - period * np.arange(n, 0, -1)
    bars["open"], bars["high"], bars["low"], bars["close"] = opens, highs, lows, closes
    bars["tick_volume"] = 100 if volumes is None else volumes
    return bars


def flat_m15(n: int = 300, price: float = 2000.0) -> np.ndarray:
    return rates(900, np.full(n, price), np.full(n, price + 1.0), np.full(n, price - 1.0), np.full(n, price))


def m15_from_closes(closes: np.ndarray, span: float = 0.5) -> np.ndarray:
    opens = np.r_[closes[0], closes[:-1]]
    return rates(900, opens, np.maximum(opens, closes) + span, np.minimum(opens, closes) - span, closes)


def flat_m5(n: int = 600, price: float = 2000.0) -> np.ndarray:
    return rates(300, *(np.full(n, price) for _ in range(4)))


def set_bar(
    bars: np.ndarray, index: int, open_: float, high: float, low: float, close: float, volume: int = 100
) -> None:
    bars[index]["open"], bars[index]["high"], bars[index]["low"], bars[index]["close"] = open_, high, low, close
    bars[index]["tick_volume"] = volume


def score(
    direction: Direction,
    *,
    m5: np.ndarray | None = None,
    m15: np.ndarray | None = None,
    ticks: np.ndarray | None = None,
    flags: bool = False,
    symbol: str = "XAUUSD",
    settings: ScoringSettings = SETTINGS,
    now: float = NOW,
) -> Score:
    return score_trade(
        direction=direction,
        m5=flat_m5() if m5 is None else m5,
        m15=flat_m15() if m15 is None else m15,
        ticks=ticks,
        bid=2000.0,
        ask=2000.3,
        symbol=symbol,
        now=now,
        settings=settings,
        has_trade_flags=flags,
    )


def raws(result: Score, name: C) -> list[float]:
    return [part.raw for part in result.component(name).parts]


# --- the whole score -------------------------------------------------------------------------------------


def test_a_flat_market_scores_zero_with_every_component_judged_but_order_flow() -> None:
    result = score(BUY)
    assert result.total == 0.0
    assert result.confluence is Confluence.MIXED
    assert {c.name: c.available for c in result.components} == {
        C.STRUCTURE: True,
        C.VWAP: True,
        C.MOMENTUM: True,
        C.EMA: True,
        C.DELTA: False,
        C.CANDLE: True,
    }
    assert [c.weight for c in result.components] == [3.0, 2.0, 2.0, 1.5, 1.0, 1.0]
    assert not (result.bos_in_favour or result.bos_against or result.choch_against or result.vwap_flip_against)
    assert result.vwap == pytest.approx(2000.0)
    assert result.regime.volatility is Volatility.NORMAL


def test_no_data_scores_zero_with_nothing_judged() -> None:
    empty = np.zeros(0, dtype=RATES_DTYPE)
    result = score(BUY, m5=empty, m15=empty, ticks=np.zeros(0, dtype=TICKS_DTYPE), flags=True)
    assert result.total == 0.0
    assert not any(c.available for c in result.components)
    assert result.explanation.endswith(", ".join(name.display_name for name in C))


def test_total_is_the_sum_of_raw_times_regime_weight() -> None:
    m15 = flat_m15()
    set_bar(m15, -1, 2000.0, 2001.0, 1993.0, 1999.0 * (1 - 0.0004))  # break of structure down
    m5 = flat_m5()
    set_bar(m5, -1, 2003.0, 2004.0, 1992.0, 1993.0)  # strong bar down through VWAP
    settings = ScoringSettings()  # defaults: this flat market is a RANGE
    result = score(BUY, m5=m5, m15=m15, settings=settings)
    assert result.regime.structure is MarketStructure.RANGE
    weights = regime_weights(result.regime, settings)
    for component in result.components:
        assert component.weight == pytest.approx(weights[component.name])
        assert component.weighted == pytest.approx(component.raw * component.weight)
    assert result.component(C.STRUCTURE).weight == pytest.approx(3.0 * 0.7)
    assert result.component(C.CANDLE).weight == pytest.approx(1.0 * 1.1)
    assert result.total == pytest.approx(sum(c.weighted for c in result.components))
    # the drop also turns RSI down from 50 and both EMAs down: RANGE keeps momentum, EMA gets 0.8
    assert raws(result, C.MOMENTUM) == [-2.0]
    assert result.total == pytest.approx(-3 * 2.1 - 2 * 1.1 - 2 * 2.0 - 1.5 * 1.2)
    assert result.confluence is Confluence.AGAINST


def test_forming_bars_and_ticks_after_the_last_close_are_ignored() -> None:
    m15 = np.concatenate([flat_m15(), flat_m15(1)])
    m15[-1]["time"] = NOW
    set_bar(m15, -1, 2000.0, 2100.0, 2000.0, 2100.0)  # forming M15 bar far above every high
    m5 = np.concatenate([flat_m5(), flat_m5(1)])
    m5[-1]["time"] = NOW
    set_bar(m5, -1, 2100.0, 2100.0, 1900.0, 1900.0)
    result = score(BUY, m5=m5, m15=m15, now=NOW + 120)
    assert result.total == 0.0
    analysis = SymbolAnalysis.compute(m5, m15, None, "XAUUSD", NOW + 120, SETTINGS)
    assert analysis.key == ("XAUUSD", NOW - 300, NOW - 900)


# --- structure -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("close", "buy", "sell"),
    [
        (2001.0 * 1.0004, 3.0, -3.0),  # 0.04 % above the 10-bar high
        (2001.0 * 1.0002, 0.0, 0.0),  # 0.02 %: not a break
        (1999.0 * 0.9996, -3.0, 3.0),  # 0.04 % below the 10-bar low
        (1999.0 * 0.9998, 0.0, 0.0),
    ],
)
def test_break_of_structure_needs_a_close_past_the_10_bar_extreme_by_0_03_pct(
    close: float, buy: float, sell: float
) -> None:
    m15 = flat_m15()
    set_bar(m15, -1, 2000.0, max(2000.0, close), min(2000.0, close), close)
    buy_score, sell_score = score(BUY, m15=m15), score(SELL, m15=m15)
    assert buy_score.component(C.STRUCTURE).raw == buy
    assert sell_score.component(C.STRUCTURE).raw == sell
    assert buy_score.component(C.STRUCTURE).weighted == buy * 3.0
    assert (buy_score.bos_in_favour, buy_score.bos_against) == (buy > 0, buy < 0)
    assert (sell_score.bos_in_favour, sell_score.bos_against) == (sell > 0, sell < 0)
    assert not (buy_score.choch_against or sell_score.choch_against)


def test_the_break_levels_are_the_10_bars_before_the_last() -> None:
    m15 = flat_m15()
    set_bar(m15, -12, 2000.0, 2010.0, 1990.0, 2000.0)  # 11 bars back: outside the window
    set_bar(m15, -1, 2000.0, 2002.0, 2000.0, 2001.0 * 1.0004)
    assert score(BUY, m15=m15).component(C.STRUCTURE).raw == 3.0
    set_bar(m15, -11, 2000.0, 2010.0, 1990.0, 2000.0)  # 10 bars back: inside it
    assert score(BUY, m15=m15).component(C.STRUCTURE).raw == 0.0


@pytest.mark.parametrize("direction", [BUY, SELL])
def test_change_of_character_needs_0_25_pct_past_the_15_bar_extreme(direction: Direction) -> None:
    d = 1 if direction is BUY else -1
    m15 = flat_m15()
    for index in range(-15, -10):  # 11 to 15 bars back: a wider extreme than the 10-bar one
        set_bar(m15, index, 2000.0, 2000.0 + 10.0, 2000.0 - 10.0, 2000.0)
    level = 2000.0 - d * 10.0  # the 15-bar low for a BUY, high for a SELL
    for close, choch in [(level * (1 - d * 0.0024), False), (level * (1 - d * 0.0026), True)]:
        set_bar(m15, -1, 2000.0, max(2000.0, close), min(2000.0, close), close)
        result = score(direction, m15=m15)
        assert result.bos_against  # past the 10-bar extreme either way
        assert result.choch_against is choch
        assert result.component(C.STRUCTURE).raw == -3.0
        assert ("change of character" in result.explanation) is choch


def test_structure_weights_and_scores_are_settings() -> None:
    settings = ScoringSettings(
        regime=RegimeSettings(range_width=0.0),
        structure=StructureRules(bos_margin_pct=0.05, bos_score=2.0),
    )
    m15 = flat_m15()
    set_bar(m15, -1, 2000.0, 2002.0, 2000.0, 2001.0 * 1.0004)
    assert score(BUY, m15=m15, settings=settings).component(C.STRUCTURE).raw == 0.0
    set_bar(m15, -1, 2000.0, 2002.0, 2000.0, 2001.0 * 1.0006)
    assert score(BUY, m15=m15, settings=settings).component(C.STRUCTURE).raw == 2.0


def test_too_few_m15_bars_leave_structure_unjudged() -> None:
    result = score(BUY, m15=flat_m15(10))
    assert not result.component(C.STRUCTURE).available
    assert result.component(C.STRUCTURE).raw == 0.0
    assert not result.component(C.EMA).available
    assert "structure" in result.explanation  # named among the components not judged


# --- VWAP flip and volume share --------------------------------------------------------------------------


def vwap_drop_m5(closes: tuple[float, float, float] = (1990.0, 1990.0, 1990.0)) -> np.ndarray:
    """Today's VWAP at 2000 for 117 bars, then three heavy bars with typical price 1990 pull it to 1997.5,
    1996 and 1995: a slope of -0.25 % over 3 bars. Each bar closes where asked (high/low keep the typical)."""
    m5 = flat_m5()
    for index, close in zip((-3, -2, -1), closes, strict=True):
        low = 3 * 1990.0 - 2 * close if close > 1990.0 else close - 5.0
        high = 3 * 1990.0 - close - low
        set_bar(m5, index, close, high, low, close, volume=3900)
    return m5


def test_vwap_drop_fixture_is_what_it_says() -> None:
    analysis = SymbolAnalysis.compute(vwap_drop_m5(), flat_m15(), None, "XAUUSD", NOW, SETTINGS)
    assert analysis.vwap.vwap == pytest.approx(1995.0)
    assert analysis.vwap.slope == pytest.approx(-0.0025)
    assert analysis.vwap.threshold == pytest.approx(0.001)  # XAUUSD in London, normal, trend
    assert analysis.vwap.recent_sides == (-1, -1, -1)


@pytest.mark.parametrize(
    ("closes", "buy", "sell"),
    [
        ((1990.0, 1990.0, 1990.0), -2.0, 1.0),  # three closes below a steep VWAP
        ((1999.0, 1990.0, 1990.0), -2.0, 1.0),  # two of three below: still a flip
        ((1999.0, 1999.0, 1990.0), 1.0, -2.0),  # one below, two above
    ],
)
def test_vwap_flip_counts_closes_on_the_wrong_side(closes, buy: float, sell: float) -> None:
    m5 = vwap_drop_m5(closes)
    buy_score, sell_score = score(BUY, m5=m5), score(SELL, m5=m5)
    assert buy_score.component(C.VWAP).raw == buy
    assert sell_score.component(C.VWAP).raw == sell
    assert buy_score.vwap_flip_against is (buy < 0)
    assert sell_score.vwap_flip_against is (sell < 0)


def test_vwap_flip_needs_the_slope_at_or_past_the_threshold() -> None:
    m5 = vwap_drop_m5()

    def with_threshold(value: float) -> ScoringSettings:
        return ScoringSettings(regime=RegimeSettings(range_width=0.0, vwap_default_threshold=value))

    slope = abs(SymbolAnalysis.compute(m5, flat_m15(), None, "US30", NOW, SETTINGS).vwap.slope)
    assert score(BUY, m5=m5, symbol="US30", settings=with_threshold(slope)).component(C.VWAP).raw == -2.0
    assert score(BUY, m5=m5, symbol="US30", settings=with_threshold(slope * 1.001)).component(C.VWAP).raw == 0.0
    # the same drop is below EURUSD's-style threshold of 0.3 % once the Asian session raises it 1.5 x
    assert score(BUY, m5=m5, symbol="US30", settings=with_threshold(0.002)).component(C.VWAP).raw == -2.0
    asian = score(BUY, m5=m5, symbol="US30", settings=with_threshold(0.002), now=NOW + 16 * HOUR)
    assert asian.regime.session == "ASIAN"
    assert asian.vwap_threshold == pytest.approx(0.003)


def test_vwap_slope_is_not_taken_across_the_daily_reset() -> None:
    m5 = flat_m5()
    m5["time"] += 21 * DAY + 300 - int(m5["time"][-1])  # the last two bars are the new day's first
    set_bar(m5, -2, 1990.0, 1995.0, 1985.0, 1986.0)  # closes below the new day's VWAP of 1988.67
    set_bar(m5, -1, 1990.0, 1995.0, 1985.0, 1986.0)
    result = score(BUY, m5=m5, now=21 * DAY + 600)
    assert result.vwap == pytest.approx((1995.0 + 1985.0 + 1986.0) / 3.0)
    assert result.component(C.VWAP).raw == 0.0
    assert math.isnan(result.vwap_slope)
    assert "VWAP slope n/a" in result.component(C.VWAP).reason


def flow_ticks(buckets: list[tuple[float, float]], end: int = NOW) -> np.ndarray:
    """One BUY and one SELL trade tick per M5 bar (oldest first) ending at ``end``, plus quote-only ticks."""
    rows = []
    for k, (buy, sell) in enumerate(buckets):
        start_ms = (end - 300 * (len(buckets) - k)) * 1000
        rows.append((start_ms + 1_000, TICK_FLAG_BUY | TICK_FLAG_LAST, buy))
        rows.append((start_ms + 2_000, TICK_FLAG_SELL | TICK_FLAG_LAST, sell))
        rows.append((start_ms + 3_000, TICK_FLAG_BID, 0.0))
    ticks = np.zeros(len(rows), dtype=TICKS_DTYPE)
    ticks["time_msc"] = [r[0] for r in rows]
    ticks["time"] = ticks["time_msc"] // 1000
    ticks["flags"] = [r[1] for r in rows]
    ticks["volume_real"] = [r[2] for r in rows]
    ticks["bid"], ticks["ask"] = 2000.0, 2000.3
    return ticks


BALANCED = [(10.0, 10.0)] * 9  # older bars: no signal from them


@pytest.mark.parametrize(
    ("buy_volume", "sell_volume", "buy", "sell"),
    [
        (30.0, 70.0, -1.0, 1.0),  # 70 % sold: strongly against a BUY; 30 % bought: favours a SELL
        (35.0, 65.0, -0.5, 0.0),  # exactly 65 % is not above 65 %, nor 35 % below 35 %
        (40.0, 60.0, -0.5, 0.0),
        (45.0, 55.0, 0.0, 0.0),  # exactly 55 % is not above 55 %
        (50.0, 50.0, 0.0, 0.0),
        (65.0, 35.0, 0.0, -0.5),  # exactly 35 % is not below 35 %
        (66.0, 34.0, 1.0, -1.0),
    ],
)
def test_volume_share_of_the_opposite_side(buy_volume, sell_volume, buy: float, sell: float) -> None:
    ticks = flow_ticks(BALANCED + [(buy_volume, sell_volume)] * 3)
    assert score(BUY, ticks=ticks, flags=True).component(C.VWAP).raw == buy
    assert score(SELL, ticks=ticks, flags=True).component(C.VWAP).raw == sell


def test_volume_share_adds_to_the_vwap_flip() -> None:
    ticks = flow_ticks(BALANCED + [(30.0, 70.0)] * 3)
    result = score(BUY, m5=vwap_drop_m5(), ticks=ticks, flags=True)
    assert raws(result, C.VWAP) == [-2.0, -1.0]
    assert result.component(C.VWAP).weighted == -6.0


def test_without_trade_flags_there_is_no_volume_share_or_delta() -> None:
    ticks = flow_ticks(BALANCED + [(10.0, 90.0)] * 3)
    result = score(BUY, ticks=ticks, flags=False)
    assert result.component(C.VWAP).raw == 0.0
    assert "volume share n/a (no trade flags" in result.component(C.VWAP).reason
    delta = result.component(C.DELTA)
    assert (delta.available, delta.raw, delta.weighted) == (False, 0.0, 0.0)
    assert score(BUY, ticks=None, flags=True).component(C.DELTA).reason == "no ticks"


# --- order-flow delta ------------------------------------------------------------------------------------

SWINGING = [(20.0, 10.0), (10.0, 20.0)] * 5 + [(15.0, 15.0)]  # 11 earlier bars: deltas +10/-10/.../0


def _z(buckets: list[tuple[float, float]]) -> float:
    deltas = np.array([b - s for b, s in buckets])
    return float((deltas[-1] - deltas[:-1].mean()) / deltas[:-1].std())


@pytest.mark.parametrize(
    ("last", "buy", "sell"),
    [((30.0, 10.0), 1.0, -1.0), ((10.0, 30.0), -1.0, 1.0), ((16.0, 14.0), 0.0, 0.0), ((10.0, 16.0), -1.0, 1.0)],
)
def test_delta_z_score_of_the_last_bar(last, buy: float, sell: float) -> None:
    buckets = [*SWINGING, last]
    ticks = flow_ticks(buckets)
    buy_score, sell_score = score(BUY, ticks=ticks, flags=True), score(SELL, ticks=ticks, flags=True)
    assert buy_score.component(C.DELTA).raw == buy
    assert sell_score.component(C.DELTA).raw == sell
    assert f"z {_z(buckets):+.2f}" in buy_score.component(C.DELTA).reason or buy == 0.0


def test_delta_threshold_is_strict() -> None:
    buckets = [*SWINGING, (30.0, 10.0)]
    z = _z(buckets)

    def at(threshold: float) -> float:
        settings = ScoringSettings(regime=RegimeSettings(range_width=0.0), delta=DeltaRules(z_threshold=threshold))
        return score(BUY, ticks=flow_ticks(buckets), flags=True, settings=settings).component(C.DELTA).raw

    assert at(z - 1e-9) == 1.0
    assert at(z + 1e-9) == 0.0


def test_delta_needs_trades_in_enough_bars_and_ignores_the_forming_bar() -> None:
    few = flow_ticks([(0.0, 0.0)] * 9 + [(10.0, 5.0), (5.0, 10.0), (30.0, 10.0)])
    few = few[few["volume_real"] > 0]
    result = score(BUY, ticks=few, flags=True)
    assert not result.component(C.DELTA).available
    assert "3 bars, 4 needed" in result.component(C.DELTA).reason
    ticks = flow_ticks([*SWINGING, (30.0, 10.0)])
    forming = flow_ticks([(0.0, 500.0)], end=NOW + 300)  # a heavy sell in the bar still forming
    both = np.sort(np.concatenate([ticks, forming]), order="time_msc")
    assert score(BUY, ticks=both, flags=True, now=NOW + 100).component(C.DELTA).raw == 1.0


# --- momentum --------------------------------------------------------------------------------------------


def alternating(up: float, down: float, n: int = 299, end_up: bool = False) -> np.ndarray:
    """Closes that step up and down in turn: RSI settles near up / (up + down) and wobbles around it."""
    steps = np.where(np.arange(n - 1) % 2 == (1 if end_up else 0), up, -down)
    if end_up == (steps[-1] < 0):
        steps = steps[::-1]
    return 2000.0 + np.r_[0.0, np.cumsum(steps)]


def talib_rsi(closes: np.ndarray) -> tuple[float, float]:
    values = talib.RSI(closes, 14)
    return float(values[-2]), float(values[-1])


def rsi_parts(result: Score) -> list[float]:
    return [p.raw for p in result.component(C.MOMENTUM).parts if p.label.startswith("RSI")]


def test_rsi_falling_below_45() -> None:
    closes = alternating(1.0, 1.25)
    previous, current = talib_rsi(closes)
    assert 40.0 < current < 45.0 < previous
    m15 = m15_from_closes(closes)
    assert rsi_parts(score(BUY, m15=m15)) == [-2.0]
    assert rsi_parts(score(SELL, m15=m15)) == [1.0]  # below 50 and falling favours a SELL
    assert "RSI falling below 45 (-2 x 2.0)" in score(BUY, m15=m15).explanation


def test_rsi_weak_level_is_40_in_low_volatility() -> None:
    closes = alternating(1.0, 1.25)
    spans = np.r_[np.full(280, 15.0), np.full(19, 0.1)]  # wide bars, then a quiet hour: ATR ratio << 0.7
    opens = np.r_[closes[0], closes[:-1]]
    m15 = rates(900, opens, np.maximum(opens, closes) + spans, np.minimum(opens, closes) - spans, closes)
    result = score(BUY, m15=m15)
    assert result.regime.volatility is Volatility.LOW
    assert rsi_parts(result) == []  # 42.6 is not below 40
    closes = alternating(1.0, 1.6)
    m15 = rates(900, opens, np.maximum(opens, closes) + spans, np.minimum(opens, closes) - spans, closes)
    assert talib_rsi(closes)[1] < 40.0
    assert rsi_parts(score(BUY, m15=m15)) == [-2.0]


def test_rsi_rising_above_50_and_above_70() -> None:
    closes = alternating(1.25, 1.0, end_up=True)
    previous, current = talib_rsi(closes)
    assert previous < 55.0 < current < 70.0
    assert rsi_parts(score(BUY, m15=m15_from_closes(closes))) == [1.0]
    assert rsi_parts(score(SELL, m15=m15_from_closes(closes))) == [-2.0]  # above 55 and rising
    closes = alternating(3.0, 1.0, end_up=True)
    previous, current = talib_rsi(closes)
    assert previous < current and current > 70.0
    assert rsi_parts(score(BUY, m15=m15_from_closes(closes))) == [-1.0]
    assert rsi_parts(score(SELL, m15=m15_from_closes(closes))) == [-2.0]
    closes = alternating(1.0, 3.0)
    assert talib_rsi(closes)[1] < 30.0
    assert rsi_parts(score(SELL, m15=m15_from_closes(closes))) == [-1.0]  # stretched the other way
    assert rsi_parts(score(BUY, m15=m15_from_closes(closes))) == [-2.0]


def macd_parts(result: Score) -> list[float]:
    return [p.raw for p in result.component(C.MOMENTUM).parts if p.label.startswith("MACD")]


def test_macd_histogram_run_of_two_bars() -> None:
    closes = 2000.0 - np.arange(300) * 0.5
    closes[-3:] = closes[-4] + np.array([2.0, 5.0, 9.0])  # a turn up: the histogram rises 2 bars
    histogram = talib.MACD(closes, 12, 26, 9)[2]
    assert histogram[-3] < histogram[-2] < histogram[-1]
    rising = m15_from_closes(closes)
    assert (macd_parts(score(BUY, m15=rising)), macd_parts(score(SELL, m15=rising))) == ([1.0], [-1.0])
    turned = score(BUY, m15=rising)
    assert turned.regime.volatility is Volatility.HIGH  # the turn's wide bars: momentum weighs 2.0 x 0.8
    assert "MACD histogram rising 2 bars (1 x 1.6)" in turned.explanation
    mirrored = 4000.0 - closes  # the same turn downwards
    histogram = talib.MACD(mirrored, 12, 26, 9)[2]
    assert histogram[-3] > histogram[-2] > histogram[-1]
    falling = m15_from_closes(mirrored)
    assert (macd_parts(score(BUY, m15=falling)), macd_parts(score(SELL, m15=falling))) == ([-1.0], [1.0])
    closes[-1] = closes[-4] - 5.0  # up one bar, then down: no run of two
    histogram = talib.MACD(closes, 12, 26, 9)[2]
    assert histogram[-3] < histogram[-2] > histogram[-1]
    assert macd_parts(score(BUY, m15=m15_from_closes(closes))) == []


# --- EMA alignment ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "buy", "sell"),
    [
        ("up", 1.0, -1.5),  # both rising
        ("down", -1.5, 1.0),  # both falling
        ("up then down", -1.0, 0.0),  # EMA50 turned down, EMA200 still rising
        ("down then up", 0.0, -1.0),  # EMA50 turned up, EMA200 still falling
    ],
)
def test_ema_alignment(shape: str, buy: float, sell: float) -> None:
    trend = np.arange(300) * 0.5
    turn = np.r_[trend[:280], trend[279] - np.arange(1, 21) * 1.0]  # up, then down for the last 20 bars
    closes = {
        "up": 2000.0 + trend,
        "down": 2000.0 - trend,
        "up then down": 2000.0 + turn,
        "down then up": 2000.0 - turn,
    }[shape]
    fast, slow = talib.EMA(closes, 50), talib.EMA(closes, 200)
    signs = (np.sign(fast[-1] - fast[-11]), np.sign(slow[-1] - slow[-11]))
    assert signs == {"up": (1, 1), "down": (-1, -1), "up then down": (-1, 1), "down then up": (1, -1)}[shape]
    m15 = m15_from_closes(closes)
    assert score(BUY, m15=m15).component(C.EMA).raw == buy
    assert score(SELL, m15=m15).component(C.EMA).raw == sell
    assert score(BUY, m15=m15).component(C.EMA).weighted == buy * 1.5


# --- candle conviction (the earlier DTMS scored every strong bar as bad) -------------------------------------


@pytest.mark.parametrize(
    ("bar", "buy", "sell"),
    [
        ((2003.0, 2004.0, 1992.0, 1993.0), -2.0, 0.0),  # strong down bar through VWAP (2000)
        ((1999.0, 2000.0, 1988.0, 1989.0), -1.0, 0.0),  # strong down bar, below VWAP throughout
        ((1997.0, 2008.0, 1996.0, 2007.0), 0.0, -2.0),  # strong up bar through VWAP
        ((2001.0, 2012.0, 2000.5, 2011.0), 0.0, -1.0),  # strong up bar above VWAP
        ((1996.5, 1997.0, 1987.0, 1990.0), -1.0, 0.0),  # body exactly 65 % of the range
        ((1996.4, 1997.0, 1987.0, 1990.0), 0.0, 0.0),  # body 64 %: not a strong bar
        ((2000.0, 2000.0, 2000.0, 2000.0), 0.0, 0.0),  # no range at all
    ],
)
def test_candle_conviction_depends_on_the_trade_direction(bar, buy: float, sell: float) -> None:
    m5 = flat_m5()
    set_bar(m5, -1, *bar)
    buy_result, sell_result = score(BUY, m5=m5), score(SELL, m5=m5)
    assert buy_result.component(C.CANDLE).raw == buy
    assert sell_result.component(C.CANDLE).raw == sell
    for result, raw in ((buy_result, buy), (sell_result, sell)):
        strong_with_trade = raw == 0.0 and abs(bar[3] - bar[0]) >= 0.65 * (bar[1] - bar[2]) > 0
        assert ("strong bar with the trade" in result.component(C.CANDLE).reason) is strong_with_trade


# --- confluence, explanation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weighted", "expected"),
    [
        ([7.0, -3.0], Confluence.FAVOUR),  # exactly 70 %
        ([6.9, -3.1], Confluence.MIXED),
        ([-7.0, 3.0], Confluence.AGAINST),
        ([-6.9, 3.1], Confluence.MIXED),
        ([9.0, 0.0, 0.0], Confluence.FAVOUR),
        ([-4.0, -2.0, 1.0], Confluence.AGAINST),  # 6 of 7
        ([0.0, 0.0], Confluence.MIXED),
        ([], Confluence.MIXED),
    ],
)
def test_confluence_needs_70_pct_of_the_weighted_evidence(weighted: list[float], expected: Confluence) -> None:
    assert confluence_of(weighted, SETTINGS) is expected


def test_confluence_of_a_real_score_is_relative_to_the_trade() -> None:
    m15 = flat_m15()
    set_bar(m15, -1, 2000.0, 2000.0, 1993.0, 1999.0 * 0.9996)  # break down: +9 for a SELL, -9 for a BUY
    assert score(BUY, m15=m15).confluence is Confluence.AGAINST
    assert score(SELL, m15=m15).confluence is Confluence.FAVOUR


def test_explanation_names_what_fired_largest_first_with_raw_and_weight() -> None:
    m5 = vwap_drop_m5()
    ticks = flow_ticks(BALANCED + [(30.0, 70.0)] * 3)
    result = score(BUY, m5=m5, ticks=ticks, flags=True)
    text = result.explanation
    assert text.startswith(f"{result.total:+.1f} AGAINST: VWAP flip against (-2 x 2.0)")
    assert "sell volume 70 % (-1 x 2.0)" in text
    assert "regime LONDON/NORMAL/TREND" in text
    assert "below VWAP" not in text and "price 0.25 % above VWAP" in text  # bid 2000 vs VWAP 1995
    assert text.index("VWAP flip against") < text.index("sell volume")
    assert "n/a" not in text


# --- the early deep check ----------------------------------------------------------------------------------


STEEP = VwapState(vwap=2000.0, slope=-0.002, threshold=0.001, recent_sides=(-1, -1, 1))  # last close above


@pytest.mark.parametrize(
    ("direction", "price", "state", "wanted"),
    [
        (BUY, 2004.1, STEEP, True),  # more than 0.2 % from entry, either way
        (SELL, 1995.9, STEEP, True),
        (SELL, 2003.9, VwapState(vwap=2100.0, slope=0.0, threshold=0.001, recent_sides=()), False),
        (BUY, 1999.0, STEEP, True),  # closes below, above, then price below: 2 of the last 3 below
        (BUY, 2001.0, STEEP, False),  # price above: once below
        (SELL, 2001.0, STEEP, True),  # above VWAP is the wrong side for a SELL: twice
        (SELL, 1999.0, STEEP, False),
        (BUY, 1999.0, VwapState(vwap=2000.0, slope=-0.0009, threshold=0.001, recent_sides=(-1, -1, 1)), False),
        (BUY, 1999.0, VwapState(vwap=2000.0, slope=0.001, threshold=0.001, recent_sides=(-1, -1, -1)), True),
        (BUY, 1999.0, VwapState(vwap=math.nan, slope=math.nan, threshold=0.001, recent_sides=()), False),
    ],
)
def test_early_check_wanted(direction: Direction, price: float, state: VwapState, wanted: bool) -> None:
    assert early_check_wanted(direction, 2000.0, price, state, SETTINGS) is wanted


def test_early_check_from_a_real_analysis() -> None:
    analysis = SymbolAnalysis.compute(vwap_drop_m5(), flat_m15(), None, "XAUUSD", NOW, SETTINGS)
    assert early_check_wanted(BUY, 1995.0, 1994.0, analysis.vwap, SETTINGS)
    assert not early_check_wanted(SELL, 1995.0, 1994.0, analysis.vwap, SETTINGS)
    assert early_check_wanted(SELL, 1995.0, 1999.0, analysis.vwap, SETTINGS)  # 0.2005 % from entry


# --- one analysis per symbol ---------------------------------------------------------------------------------


def test_one_shared_analysis_scores_every_trade_as_scoring_each_alone() -> None:
    m5 = vwap_drop_m5((1999.0, 1990.0, 1990.0))
    m15 = m15_from_closes(alternating(1.0, 1.25, n=300))
    ticks = flow_ticks([*SWINGING, (10.0, 30.0)])
    analysis = SymbolAnalysis.compute(m5, m15, ticks, "XAUUSD", NOW, SETTINGS, has_trade_flags=True)
    for direction in (BUY, SELL):
        shared = score_trade_with(analysis, direction, bid=2000.0, ask=2000.3)
        alone = score(direction, m5=m5, m15=m15, ticks=ticks, flags=True)
        assert shared == alone
        assert shared.total != 0.0
    # a second trade on the same side reuses the verdict; its own price only changes the explanation
    first = score_trade_with(analysis, BUY, bid=2000.0, ask=2000.3)
    second = score_trade_with(analysis, BUY, bid=1990.0, ask=1990.3)
    assert second.components is first.components
    assert (second.price, first.price) == (1990.0, 2000.0)
    assert "0.25 % below VWAP" in second.explanation and "0.25 % above VWAP" in first.explanation
    # trades scored at the same price keep one explanation between them, not a copy each
    third = score_trade_with(analysis, BUY, bid=2000.0, ask=2000.3)
    assert third.explanation == first.explanation and third.explanation is first.explanation
