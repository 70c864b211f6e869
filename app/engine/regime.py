"""Market regime (session, volatility, structure) and what it adapts: the VWAP threshold and the weights."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from app.engine.indicators import SECONDS_PER_DAY, atr, bollinger_width
from app.engine.scoring.settings import ScoringSettings
from app.engine.scoring.vocab import ComponentName, MarketStructure, RegimeLabel, Session, Volatility

logger = logging.getLogger(__name__)

__all__ = [
    "MarketStructure",
    "Regime",
    "Session",
    "Volatility",
    "classify_regime",
    "regime_weights",
    "session_at",
    "vwap_base_threshold",
    "vwap_threshold",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Regime:
    """The market's regime at one moment. ``atr_ratio`` and ``band_width`` are NaN without enough bars
    (volatility then reads NORMAL and structure TREND, which adapt nothing)."""

    session: Session
    volatility: Volatility
    structure: MarketStructure
    atr_ratio: float = math.nan
    band_width: float = math.nan

    @property
    def labels(self) -> tuple[RegimeLabel, RegimeLabel, RegimeLabel]:
        return (self.session, self.volatility, self.structure)

    def __str__(self) -> str:
        return f"{self.session}/{self.volatility}/{self.structure}"


def session_at(now_utc_seconds: float, settings: ScoringSettings) -> Session:
    """The session of a UTC moment."""
    hour = int(now_utc_seconds % SECONDS_PER_DAY) // 3600
    london_start, london_end = settings.regime.london_hours
    ny_start, ny_end = settings.regime.ny_hours
    in_london = london_start <= hour < london_end
    in_ny = ny_start <= hour < ny_end
    if in_london and in_ny:
        return Session.OVERLAP
    if in_london:
        return Session.LONDON
    if in_ny:
        return Session.NY
    return Session.ASIAN


def classify_regime(m15_bars: np.ndarray, now_utc_seconds: float, settings: ScoringSettings) -> Regime:
    """Regime from closed M15 bars (oldest first) and the current UTC time."""
    rules = settings.regime
    high = m15_bars["high"]
    low = m15_bars["low"]
    close = m15_bars["close"]
    atr_values = atr(high, low, close, rules.atr_period)
    recent = atr_values[-rules.atr_mean_bars :]
    recent = recent[~np.isnan(recent)]
    ratio = math.nan
    if len(recent) >= rules.atr_mean_bars and recent.mean() > 0.0:
        ratio = float(recent[-1] / recent.mean())
    if ratio < rules.low_volatility_ratio:
        volatility = Volatility.LOW
    elif ratio > rules.high_volatility_ratio:
        volatility = Volatility.HIGH
    else:
        volatility = Volatility.NORMAL  # also without enough bars (NaN compares False)
    width = float(bollinger_width(close, rules.bollinger_period, rules.bollinger_k)[-1]) if len(close) else math.nan
    structure = MarketStructure.RANGE if width < rules.range_width else MarketStructure.TREND
    return Regime(
        session=session_at(now_utc_seconds, settings),
        volatility=volatility,
        structure=structure,
        atr_ratio=ratio,
        band_width=width,
    )


def vwap_base_threshold(symbol: str, settings: ScoringSettings) -> float:
    """The symbol's base VWAP slope threshold: the first configured name it contains, else the default."""
    name = symbol.strip().upper()
    for pattern, value in settings.regime.vwap_base_thresholds.items():
        if pattern in name:
            return value
    return settings.regime.vwap_default_threshold


def vwap_threshold(symbol: str, regime: Regime, settings: ScoringSettings) -> float:
    """Base threshold x the session, volatility and structure multipliers, the product clamped to the range."""
    rules = settings.regime
    factor = 1.0
    for label in regime.labels:
        factor *= rules.vwap_threshold_multipliers.get(label, 1.0)
    low, high = rules.vwap_threshold_clamp
    return vwap_base_threshold(symbol, settings) * min(max(factor, low), high)


def regime_weights(regime: Regime, settings: ScoringSettings) -> dict[ComponentName, float]:
    """Each component's base weight x the multiplier of every regime label that names it."""
    weights = dict(settings.weights)
    for label in regime.labels:
        for name, multiplier in settings.regime.weight_multipliers.get(label, {}).items():
            weights[name] *= multiplier
    return {name: round(weight, 9) for name, weight in weights.items()}
