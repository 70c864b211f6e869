"""Regime classification, the adaptive VWAP threshold and the regime's weight multipliers.

The expected multipliers are written out here from the specification's table, not read from the settings,
so a multiplier that is configured but never applied (or applied under another label) fails a test.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import talib

from app.engine.regime import (
    MarketStructure,
    Regime,
    Session,
    Volatility,
    classify_regime,
    regime_weights,
    session_at,
    vwap_base_threshold,
    vwap_threshold,
)
from app.engine.scoring.settings import RegimeSettings, ScoringSettings
from app.engine.scoring.vocab import ComponentName as C
from app.errors import InvalidSettings
from app.terminal.structs import RATES_DTYPE

HOUR = 3600
DAY = 86_400
DEFAULTS = ScoringSettings()

BASE_WEIGHTS = {C.STRUCTURE: 3.0, C.VWAP: 2.0, C.MOMENTUM: 2.0, C.EMA: 1.5, C.DELTA: 1.0, C.CANDLE: 1.0}
SPEC_WEIGHT_MULTIPLIERS = {
    MarketStructure.RANGE: {C.STRUCTURE: 0.7, C.VWAP: 1.3, C.EMA: 0.8, C.DELTA: 1.2, C.CANDLE: 1.1},
    Volatility.HIGH: {C.STRUCTURE: 1.2, C.VWAP: 0.9, C.MOMENTUM: 0.8, C.DELTA: 1.1, C.CANDLE: 0.9},
    Session.ASIAN: {name: 0.8 for name in C},
}
SPEC_THRESHOLD_MULTIPLIERS = {
    Session.ASIAN: 1.5,
    Session.LONDON: 1.0,
    Session.NY: 0.8,
    Session.OVERLAP: 0.7,
    Volatility.LOW: 1.4,
    Volatility.NORMAL: 1.0,
    Volatility.HIGH: 0.8,
    MarketStructure.RANGE: 1.3,
    MarketStructure.TREND: 1.0,
}
ALL_REGIMES = [
    Regime(session=s, volatility=v, structure=m) for s, v, m in itertools.product(Session, Volatility, MarketStructure)
]


def bars_from(closes: np.ndarray, spans: np.ndarray, start: int = 10 * DAY) -> np.ndarray:
    bars = np.zeros(len(closes), dtype=RATES_DTYPE)
    bars["time"] = start + 900 * np.arange(len(closes))
    bars["open"] = np.r_[closes[0], closes[:-1]]
    bars["close"] = closes
    bars["high"] = np.maximum(bars["open"], closes) + spans / 2.0
    bars["low"] = np.minimum(bars["open"], closes) - spans / 2.0
    bars["tick_volume"] = 100
    return bars


@pytest.mark.parametrize(
    ("hours", "session"),
    [
        (range(0, 8), Session.ASIAN),
        (range(8, 13), Session.LONDON),
        (range(13, 16), Session.OVERLAP),
        (range(16, 21), Session.NY),
        (range(21, 24), Session.ASIAN),
    ],
)
def test_sessions_by_utc_hour(hours: range, session: Session) -> None:
    for hour in hours:
        assert session_at(20 * DAY + hour * HOUR, DEFAULTS) is session
        assert session_at(20 * DAY + hour * HOUR + 3599, DEFAULTS) is session


def _volatility_bars(last_span: float) -> np.ndarray:
    """Flat market, bars 1.0 wide, then the last 20 bars ``last_span`` wide."""
    spans = np.r_[np.full(280, 1.0), np.full(20, last_span)]
    return bars_from(np.full(300, 2000.0), spans)


@pytest.mark.parametrize(
    ("last_span", "volatility"), [(0.3, Volatility.LOW), (1.0, Volatility.NORMAL), (3.0, Volatility.HIGH)]
)
def test_volatility_by_atr_ratio(last_span: float, volatility: Volatility) -> None:
    bars = _volatility_bars(last_span)
    regime = classify_regime(bars, 20 * DAY, DEFAULTS)
    reference = talib.ATR(bars["high"], bars["low"], bars["close"], 14)
    assert regime.atr_ratio == pytest.approx(reference[-1] / reference[-96:].mean())
    assert regime.volatility is volatility


def test_volatility_thresholds_are_strict_and_settings() -> None:
    bars = _volatility_bars(0.3)
    ratio = classify_regime(bars, 20 * DAY, DEFAULTS).atr_ratio
    at_ratio = ScoringSettings(regime=RegimeSettings(low_volatility_ratio=ratio, high_volatility_ratio=2.0))
    assert classify_regime(bars, 20 * DAY, at_ratio).volatility is Volatility.NORMAL
    above = ScoringSettings(regime=RegimeSettings(low_volatility_ratio=ratio + 1e-9, high_volatility_ratio=2.0))
    assert classify_regime(bars, 20 * DAY, above).volatility is Volatility.LOW


def test_structure_by_bollinger_width() -> None:
    rng = np.random.default_rng(5)
    quiet = bars_from(2000.0 + rng.normal(0.0, 0.5, 300), np.full(300, 0.5))
    trending = bars_from(2000.0 + np.arange(300) * 1.0, np.full(300, 0.5))
    quiet_regime = classify_regime(quiet, 20 * DAY, DEFAULTS)
    trend_regime = classify_regime(trending, 20 * DAY, DEFAULTS)
    assert quiet_regime.band_width < 0.004
    assert quiet_regime.structure is MarketStructure.RANGE
    assert trend_regime.band_width > 0.004
    assert trend_regime.structure is MarketStructure.TREND
    upper, middle, lower = talib.BBANDS(trending["close"], 20, 2.0, 2.0, 0)
    assert trend_regime.band_width == pytest.approx((upper[-1] - lower[-1]) / middle[-1])
    at_width = ScoringSettings(regime=RegimeSettings(range_width=quiet_regime.band_width))
    assert classify_regime(quiet, 20 * DAY, at_width).structure is MarketStructure.TREND


def test_too_few_bars_adapt_nothing() -> None:
    bars = _volatility_bars(3.0)[-30:]
    regime = classify_regime(bars, 20 * DAY + 9 * HOUR, DEFAULTS)
    assert math.isnan(regime.atr_ratio)
    assert (regime.session, regime.volatility) == (Session.LONDON, Volatility.NORMAL)
    empty = classify_regime(bars[:0], 20 * DAY, DEFAULTS)
    assert (empty.volatility, empty.structure) == (Volatility.NORMAL, MarketStructure.TREND)


@pytest.mark.parametrize(
    ("symbol", "base"),
    [
        ("XAUUSD", 0.001),
        ("XAUUSD.m", 0.001),
        ("BTCUSD", 0.002),
        ("btcusdt", 0.002),
        ("EURUSD", 0.0005),
        ("GBPUSDc", 0.0005),
        ("USDJPY", 0.0007),
        ("EURJPY", 0.0007),
        ("AUDUSD", 0.001),
        ("US30", 0.001),
    ],
)
def test_vwap_base_threshold_per_symbol(symbol: str, base: float) -> None:
    assert vwap_base_threshold(symbol, DEFAULTS) == base


@pytest.mark.parametrize("regime", ALL_REGIMES, ids=str)
def test_every_vwap_threshold_multiplier_applies(regime: Regime) -> None:
    factor = 1.0
    for label in regime.labels:
        factor *= SPEC_THRESHOLD_MULTIPLIERS[label]
    expected = 0.0005 * min(max(factor, 0.5), 1.8)
    assert vwap_threshold("EURUSD", regime, DEFAULTS) == pytest.approx(expected, rel=1e-12)


def test_vwap_threshold_clamps_both_ways() -> None:
    calm = Regime(session=Session.ASIAN, volatility=Volatility.LOW, structure=MarketStructure.RANGE)
    assert vwap_threshold("XAUUSD", calm, DEFAULTS) == pytest.approx(0.001 * 1.8)  # 1.5 x 1.4 x 1.3 = 2.73
    busy = Regime(session=Session.OVERLAP, volatility=Volatility.HIGH, structure=MarketStructure.TREND)
    assert vwap_threshold("XAUUSD", busy, DEFAULTS) == pytest.approx(0.001 * 0.56)
    words: dict[Any, float] = {"ny": 0.3, "high": 0.8}  # labels given as words, as a settings file gives them
    low_ny = ScoringSettings(regime=RegimeSettings(vwap_threshold_multipliers=words))
    ny_high = Regime(session=Session.NY, volatility=Volatility.HIGH, structure=MarketStructure.TREND)
    assert vwap_threshold("XAUUSD", ny_high, low_ny) == pytest.approx(0.001 * 0.5)


@pytest.mark.parametrize("regime", ALL_REGIMES, ids=str)
def test_every_weight_multiplier_applies(regime: Regime) -> None:
    weights = regime_weights(regime, DEFAULTS)
    for name, base in BASE_WEIGHTS.items():
        expected = base
        for label in regime.labels:
            expected *= SPEC_WEIGHT_MULTIPLIERS.get(label, {}).get(name, 1.0)
        assert weights[name] == pytest.approx(expected, rel=1e-9), name


def test_each_listed_multiplier_moves_its_weight() -> None:
    neutral = Regime(session=Session.LONDON, volatility=Volatility.NORMAL, structure=MarketStructure.TREND)
    assert regime_weights(neutral, DEFAULTS) == BASE_WEIGHTS
    for label, table in SPEC_WEIGHT_MULTIPLIERS.items():
        regime = Regime(
            session=label if isinstance(label, Session) else Session.LONDON,
            volatility=label if isinstance(label, Volatility) else Volatility.NORMAL,
            structure=label if isinstance(label, MarketStructure) else MarketStructure.TREND,
        )
        weights = regime_weights(regime, DEFAULTS)
        for name in C:
            assert weights[name] == pytest.approx(BASE_WEIGHTS[name] * table.get(name, 1.0)), (label, name)


def test_labels_written_in_any_case_are_the_labels_the_regime_carries() -> None:
    settings = ScoringSettings.from_mapping(
        {
            "weights": {"vwap": 4.0},
            "regime": {
                "weight_multipliers": {"range": {"vwap": 2.0}, "Asian": {"Candle": 3.0}},
                "vwap_threshold_multipliers": {"overlap": 0.5},
            },
        }
    )
    regime = Regime(session=Session.ASIAN, volatility=Volatility.NORMAL, structure=MarketStructure.RANGE)
    weights = regime_weights(regime, settings)
    assert weights[C.VWAP] == pytest.approx(4.0 * 2.0 * 0.8)  # asian keeps its other entries
    assert weights[C.CANDLE] == pytest.approx(1.0 * 1.1 * 3.0)
    overlap = Regime(session=Session.OVERLAP, volatility=Volatility.NORMAL, structure=MarketStructure.TREND)
    assert vwap_threshold("EURUSD", overlap, settings) == pytest.approx(0.0005 * 0.5)


@pytest.mark.parametrize(
    "table",
    [
        {"regime": {"weight_multipliers": {"ranging": {"vwap": 2.0}}}},
        {"regime": {"weight_multipliers": {"range": {"volume": 2.0}}}},
        {"regime": {"vwap_threshold_multipliers": {"tokyo": 1.2}}},
        {"regime": {"no_such_setting": 1}},
        {"weights": {"vwap": 2.0, "sentiment": 1.0}},
    ],
)
def test_unknown_labels_and_keys_are_refused(table: dict) -> None:
    with pytest.raises(InvalidSettings):
        ScoringSettings.from_mapping(table)


def test_settings_from_a_nested_table_override_only_what_they_name() -> None:
    settings = ScoringSettings.from_mapping(
        {
            "confluence_pct": 75.0,
            "structure": {"bos_margin_pct": 0.05},
            "regime": {"london_hours": [7, 16], "vwap_base_thresholds": {"us30": 0.0015}},
        }
    )
    assert settings.confluence_pct == 75.0
    assert settings.structure.bos_margin_pct == 0.05
    assert settings.structure.choch_margin_pct == 0.25  # untouched
    assert settings.regime.london_hours == (7, 16)
    assert session_at(20 * DAY + 7 * HOUR, settings) is Session.LONDON
    assert vwap_base_threshold("US30.cash", settings) == 0.0015
    assert vwap_base_threshold("EURUSD", settings) == 0.0005  # the other bases stay
    assert settings.weights == DEFAULTS.weights
    with pytest.raises(InvalidSettings):
        ScoringSettings.from_mapping({"structure": {"bos_margin": 0.05}})
    with pytest.raises(InvalidSettings):
        ScoringSettings.from_mapping({"confluence_pct": 40.0})
