"""The settings file round-trips every engine figure, the scoring section's nested tables included, and names
the key at fault when a value does not fit."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from app.config import AppSettings, load_settings, save_settings, settings_from_dict, settings_to_dict
from app.engine.scoring.settings import RegimeSettings, ScoringSettings, StructureRules
from app.engine.scoring.vocab import ComponentName as C
from app.engine.scoring.vocab import MarketStructure, Session, Volatility
from app.engine.settings import EngineSettings
from app.errors import InvalidSettings


def _custom_scoring() -> ScoringSettings:
    weights = dict(ScoringSettings().weights) | {C.VWAP: 2.5, C.DELTA: 0.0}
    regime = RegimeSettings(
        london_hours=(7, 15),
        vwap_base_thresholds={"XAUUSD": 0.0012, "btc": 0.003},
        vwap_threshold_multipliers=cast(dict[Any, float], {Session.ASIAN: 1.6, "low": 1.2}),  # words or labels
        vwap_threshold_clamp=(0.4, 2.0),
        weight_multipliers=cast(
            dict[Any, Any], {MarketStructure.RANGE: {C.VWAP: 1.5}, Volatility.HIGH: {"structure": 1.3}}
        ),
    )
    return ScoringSettings(
        weights=weights, confluence_pct=75.0, structure=StructureRules(bos_margin_pct=0.05), regime=regime
    )


def test_the_engine_settings_hold_every_scoring_figure() -> None:
    assert EngineSettings().scoring == ScoringSettings()


def test_defaults_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dtms.toml"
    save_settings(path, AppSettings())
    assert "[engine.scoring.regime.weight_multipliers.RANGE]" in path.read_text(encoding="utf-8")
    assert load_settings(path) == AppSettings()


def test_changed_scoring_settings_round_trip_through_the_file(tmp_path: Path) -> None:
    settings = replace(AppSettings(), engine=replace(EngineSettings(), scoring=_custom_scoring()))
    path = tmp_path / "dtms.toml"
    save_settings(path, settings)
    loaded = load_settings(path)
    assert loaded == settings
    scoring = loaded.engine.scoring
    assert scoring.weights[C.VWAP] == 2.5 and scoring.confluence_pct == 75.0
    assert scoring.regime.london_hours == (7, 15) and scoring.regime.vwap_base_thresholds["BTC"] == 0.003
    assert scoring.regime.vwap_threshold_multipliers[Volatility.LOW] == 1.2
    assert scoring.regime.weight_multipliers[Volatility.HIGH] == {C.STRUCTURE: 1.3}
    assert settings_from_dict(settings_to_dict(settings)) == settings  # what the settings dialog does


def test_labels_are_read_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "dtms.toml"
    path.write_text("[engine.scoring.regime.weight_multipliers.range]\nvwap = 1.4\n", encoding="utf-8")
    regime = load_settings(path).engine.scoring.regime
    assert regime.weight_multipliers == {MarketStructure.RANGE: {C.VWAP: 1.4}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weights": 3}, "engine.scoring.weights must be a table"),
        ({"weights": {"vwap": "high"}}, "engine.scoring.weights.vwap must be a number"),
        ({"weights": {"vwap": 2.0}}, "no base weight for STRUCTURE"),
        ({"regime": {"weight_multipliers": {"range": 1.2}}}, "weight_multipliers.range must be a table"),
        ({"regime": {"weight_multipliers": {"monsoon": {"vwap": 1.0}}}}, "'monsoon' is not a regime label"),
        ({"regime": {"london_hours": [8]}}, "engine.scoring.regime.london_hours must be a list of 2 values"),
        ({"structure": {"bos_lookback_bars": 9.5}}, "engine.scoring.structure.bos_lookback_bars must be a whole"),
        ({"confluence_pct": 40}, "confluence_pct must be in (50, 100]"),
        ({"tempo": 1}, "unknown setting engine.scoring.tempo"),
    ],
)
def test_a_scoring_value_that_does_not_fit_names_its_key(data: dict, message: str) -> None:
    with pytest.raises(InvalidSettings, match=re.escape(message)):
        settings_from_dict({"engine": {"scoring": data}})


def test_the_simulated_servers_time_zone_round_trips_and_is_checked(tmp_path: Path) -> None:
    settings = replace(AppSettings(), terminal=replace(AppSettings().terminal, sim_utc_offset_min=180))
    path = tmp_path / "dtms.toml"
    save_settings(path, settings)
    assert load_settings(path).terminal.sim_utc_offset_min == 180
    for bad in (7, 900):
        with pytest.raises(InvalidSettings, match="sim_utc_offset_min"):
            replace(AppSettings(), terminal=replace(AppSettings().terminal, sim_utc_offset_min=bad)).validate()
