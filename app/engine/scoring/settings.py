"""Every number the scorer uses, as settings with the defaults of the DTMS specification.

Percentages are written as percentages (``0.03`` means 0.03 %, ``65.0`` means 65 %); raw scores are signed
as they count for the trade. Tables keyed by a regime label or a component accept the keys in any case and
are stored under the vocabulary's own members (see :mod:`app.engine.scoring.vocab`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, get_type_hints

from app.engine.scoring.vocab import (
    ComponentName,
    MarketStructure,
    RegimeLabel,
    Session,
    Volatility,
    parse_regime_label,
)
from app.errors import InvalidSettings

C = ComponentName


@dataclass(frozen=True, slots=True, kw_only=True)
class StructureRules:
    """Break of structure on the last closed M15 bar, and change of character."""

    bos_lookback_bars: int = 10
    bos_margin_pct: float = 0.03
    bos_score: float = 3.0
    choch_lookback_bars: int = 15
    choch_margin_pct: float = 0.25
    choch_score: float = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class VwapRules:
    """VWAP flip on M5 and the share of traded volume on the trade's opposite side."""

    slope_bars: int = 3
    wrong_side_min: int = 2
    flip_against_score: float = -2.0
    flip_favour_score: float = 1.0
    opposite_share_strong_pct: float = 65.0
    opposite_share_strong_score: float = -1.0
    opposite_share_mild_pct: float = 55.0
    opposite_share_mild_score: float = -0.5
    opposite_share_low_pct: float = 35.0
    opposite_share_low_score: float = 1.0
    volume_window_bars: int = 3  # M5 bars of ticks the volume share is taken over


@dataclass(frozen=True, slots=True, kw_only=True)
class MomentumRules:
    """RSI and MACD histogram on M15 (thresholds for a BUY; a SELL uses 100 minus each RSI level)."""

    rsi_period: int = 14
    rsi_weak_below: float = 45.0
    rsi_weak_below_low_volatility: float = 40.0
    rsi_weak_score: float = -2.0
    rsi_stretched_above: float = 70.0
    rsi_stretched_score: float = -1.0
    rsi_strong_above: float = 50.0
    rsi_strong_score: float = 1.0
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    macd_run_bars: int = 2
    macd_score: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EmaRules:
    """Slopes of the fast and slow EMA on M15 over ``slope_bars`` bars."""

    fast_period: int = 50
    slow_period: int = 200
    slope_bars: int = 10
    both_against_score: float = -1.5
    fast_against_score: float = -1.0
    both_with_score: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeltaRules:
    """Z-score of the last M5 bar's traded delta (buy minus sell volume) against the bars before it."""

    z_threshold: float = 0.5
    score: float = 1.0
    lookback_bars: int = 12
    min_active_bars: int = 4  # bars with trades needed: the last one and at least three before it


@dataclass(frozen=True, slots=True, kw_only=True)
class CandleRules:
    """Conviction of the last closed M5 bar."""

    body_pct: float = 65.0
    against_score: float = -1.0
    through_vwap_score: float = -2.0


def _default_vwap_bases() -> Mapping[str, float]:
    # first match wins, by substring of the upper-cased symbol name (broker suffixes allowed)
    return {"BTC": 0.002, "XAUUSD": 0.001, "EURUSD": 0.0005, "GBPUSD": 0.0005, "JPY": 0.0007}


def _default_threshold_multipliers() -> Mapping[RegimeLabel, float]:
    return {
        Session.ASIAN: 1.5,
        Session.LONDON: 1.0,
        Session.NY: 0.8,
        Session.OVERLAP: 0.7,
        Volatility.LOW: 1.4,
        Volatility.HIGH: 0.8,
        MarketStructure.RANGE: 1.3,
    }


def _default_weight_multipliers() -> Mapping[RegimeLabel, Mapping[ComponentName, float]]:
    return {
        MarketStructure.RANGE: {C.STRUCTURE: 0.7, C.VWAP: 1.3, C.EMA: 0.8, C.DELTA: 1.2, C.CANDLE: 1.1},
        Volatility.HIGH: {C.STRUCTURE: 1.2, C.VWAP: 0.9, C.MOMENTUM: 0.8, C.DELTA: 1.1, C.CANDLE: 0.9},
        Session.ASIAN: {name: 0.8 for name in ComponentName},
    }


def _default_weights() -> Mapping[ComponentName, float]:
    return {C.STRUCTURE: 3.0, C.VWAP: 2.0, C.MOMENTUM: 2.0, C.EMA: 1.5, C.DELTA: 1.0, C.CANDLE: 1.0}


def _labels(table: Mapping[Any, float], what: str) -> Mapping[RegimeLabel, float]:
    try:
        return MappingProxyType({parse_regime_label(k): float(v) for k, v in table.items()})
    except ValueError as exc:
        raise InvalidSettings(f"{what}: {exc}") from exc


def _components(table: Mapping[Any, float], what: str) -> Mapping[ComponentName, float]:
    try:
        return MappingProxyType({ComponentName(k): float(v) for k, v in table.items()})
    except ValueError as exc:
        raise InvalidSettings(f"{what}: {exc}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class RegimeSettings:
    """Regime classification, the adaptive VWAP threshold and the regime's weight multipliers.

    Sessions by UTC hour ``[start, end)``: both London and New York is OVERLAP, any hour in neither is ASIAN
    (00-08 and the quiet hours after New York). Bar times and ``now`` are terminal (broker server) time;
    ``server_utc_offset_s`` is that time minus UTC.
    """

    london_hours: tuple[int, int] = (8, 16)
    ny_hours: tuple[int, int] = (13, 21)
    server_utc_offset_s: int = 0
    atr_period: int = 14
    atr_mean_bars: int = 96  # the ATR ratio is the last ATR over its mean across this many M15 bars
    low_volatility_ratio: float = 0.7
    high_volatility_ratio: float = 1.3
    bollinger_period: int = 20
    bollinger_k: float = 2.0
    range_width: float = 0.004
    vwap_base_thresholds: Mapping[str, float] = field(default_factory=_default_vwap_bases)
    vwap_default_threshold: float = 0.001
    vwap_threshold_multipliers: Mapping[RegimeLabel, float] = field(default_factory=_default_threshold_multipliers)
    vwap_threshold_clamp: tuple[float, float] = (0.5, 1.8)
    weight_multipliers: Mapping[RegimeLabel, Mapping[ComponentName, float]] = field(
        default_factory=_default_weight_multipliers
    )

    def __post_init__(self) -> None:
        bases = MappingProxyType({str(k).strip().upper(): float(v) for k, v in self.vwap_base_thresholds.items()})
        object.__setattr__(self, "vwap_base_thresholds", bases)
        object.__setattr__(
            self,
            "vwap_threshold_multipliers",
            _labels(self.vwap_threshold_multipliers, "vwap_threshold_multipliers"),
        )
        try:
            weights = {
                parse_regime_label(label): _components(table, f"weight_multipliers[{label}]")
                for label, table in self.weight_multipliers.items()
            }
        except ValueError as exc:
            raise InvalidSettings(f"weight_multipliers: {exc}") from exc
        object.__setattr__(self, "weight_multipliers", MappingProxyType(weights))
        low, high = self.vwap_threshold_clamp
        if not 0 < low <= high:
            raise InvalidSettings(f"vwap_threshold_clamp must be 0 < low <= high, got {self.vwap_threshold_clamp}")
        if not 0 < self.low_volatility_ratio <= self.high_volatility_ratio:
            raise InvalidSettings("volatility ratios must be 0 < low <= high")
        for name in ("london_hours", "ny_hours"):
            start, end = getattr(self, name)
            if not 0 <= start < end <= 24:
                raise InvalidSettings(f"{name} must be 0 <= start < end <= 24, got {(start, end)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringSettings:
    """The scorer's settings: base weights, the rules of each component, the regime and the fast-cycle trigger."""

    weights: Mapping[ComponentName, float] = field(default_factory=_default_weights)
    confluence_pct: float = 70.0
    m5_bars: int = 600
    m15_bars: int = 300
    early_check_move_pct: float = 0.2
    structure: StructureRules = field(default_factory=StructureRules)
    vwap: VwapRules = field(default_factory=VwapRules)
    momentum: MomentumRules = field(default_factory=MomentumRules)
    ema: EmaRules = field(default_factory=EmaRules)
    delta: DeltaRules = field(default_factory=DeltaRules)
    candle: CandleRules = field(default_factory=CandleRules)
    regime: RegimeSettings = field(default_factory=RegimeSettings)

    def __post_init__(self) -> None:
        weights = _components(self.weights, "weights")
        missing = [name.value for name in ComponentName if name not in weights]
        if missing:
            raise InvalidSettings(f"weights: no base weight for {', '.join(missing)}")
        object.__setattr__(self, "weights", weights)
        if not 50.0 < self.confluence_pct <= 100.0:
            raise InvalidSettings(f"confluence_pct must be in (50, 100], got {self.confluence_pct}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScoringSettings:
        """Settings from a plain nested table (e.g. a TOML ``[scoring]`` section) over the defaults.

        Unknown keys raise :class:`InvalidSettings`; a table given for ``weights`` or a multiplier table
        replaces only the entries it names.
        """
        return _build(cls, cls(), data, "scoring")


def _build(cls: type, default: Any, data: Mapping[str, Any], where: str) -> Any:
    if not isinstance(data, Mapping):
        raise InvalidSettings(f"{where} must be a table, got {type(data).__name__}")
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            raise InvalidSettings(f"{where}.{key} is not a setting")
        current = getattr(default, key)
        if dataclasses.is_dataclass(current):
            changes[key] = _build(type(current), current, value, f"{where}.{key}")
        elif isinstance(current, Mapping):
            changes[key] = _merge(current, value, f"{where}.{key}")
        elif hints[key] in (tuple[int, int], tuple[float, float]):
            changes[key] = tuple(value)
        else:
            changes[key] = value
    try:
        return dataclasses.replace(default, **changes)
    except (TypeError, ValueError) as exc:
        raise InvalidSettings(f"{where}: {exc}") from exc


def _merge(current: Mapping[Any, Any], given: Any, where: str) -> dict[Any, Any]:
    """``given`` over ``current``, key by key, nested tables merged too (keys matched case-insensitively)."""
    if not isinstance(given, Mapping):
        raise InvalidSettings(f"{where} must be a table, got {type(given).__name__}")
    merged: dict[Any, Any] = dict(current)
    by_text = {str(k).upper(): k for k in merged}
    for key, value in given.items():
        existing = by_text.get(str(key).strip().upper(), key)
        if isinstance(value, Mapping):
            merged[existing] = _merge(merged.get(existing, {}), value, f"{where}.{key}")
        else:
            merged[existing] = value
    return merged
