"""Settings in a trader's words: every field has its unit and a one-line explanation, numbers are never cut,
the safety rails have their page (blackout windows in terminal time), and the theme chosen applies at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QLabel

from app.config import ThemeName, load_settings
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.settings_dialog import HELP, PAGES
from app.views.theme import DARK, LIGHT, ThemeChoice, current, themes

from .test_settings_dialog import click_save, open_dialog, set_field, window


@pytest.mark.qasync
async def test_every_field_explains_itself_and_shows_its_digits(
    services: Services, bridge: EngineBridge, tmp_path: Path
) -> None:
    dialog = open_dialog(window(services, bridge, tmp_path / "dtms.toml"))
    titles = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert "Safety rails" in titles and "Window" in titles
    for key, field in dialog.fields.items():
        assert HELP.get(key), f"{key} has no explanation"
        helps = [
            label.text()
            for label in field.widget.parentWidget().findChildren(QLabel)
            if label.objectName() == "fieldHelp"
        ]
        assert HELP[key] in helps, f"{key}'s explanation is shown beside it"
        if isinstance(field.widget, QAbstractSpinBox):
            widget = field.widget
            for value in (-12.75, 1234.5):
                if widget.minimum() <= value <= widget.maximum():
                    text = widget.textFromValue(value) + widget.suffix()
                    assert widget.minimumWidth() > widget.fontMetrics().horizontalAdvance(text) + 20, key
    units = {key: unit for _t, _n, groups in PAGES for _g, rows in groups for key, _l, unit in rows}
    assert units["engine.rails.hourly_loss_pct"] == " % of balance"
    assert dialog.fields["engine.rails.hourly_loss_pct"].widget.suffix() == " % of balance"
    dialog.reject()


@pytest.mark.qasync
async def test_safety_rails_page_saves_limits_and_blackouts(
    services: Services, bridge: EngineBridge, tmp_path: Path
) -> None:
    config = tmp_path / "dtms.toml"
    w = window(services, bridge, config)
    dialog = w.open_settings("Safety rails")
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Safety rails"
    set_field(dialog, "engine.rails.daily_loss_pct", 3.0)
    set_field(dialog, "engine.rails.spread_median_multiple", 2.5)
    set_field(
        dialog, "engine.rails.blackouts", "2026-12-07 13:30 - 2026-12-07 14:00\n2026-12-08 15:00 to 2026-12-08 15:30"
    )
    click_save(dialog)
    rails = load_settings(config).engine.rails
    assert rails.daily_loss_pct == 3.0 and rails.spread_median_multiple == 2.5
    assert rails.blackouts == ((1796650200.0, 1796652000.0), (1796742000.0, 1796743800.0))
    assert services.engine.rails.settings == rails, "applied to the running engine"
    again = open_dialog(w)
    assert again.fields["engine.rails.blackouts"].widget.toPlainText() == (
        "2026-12-07 13:30 - 2026-12-07 14:00\n2026-12-08 15:00 - 2026-12-08 15:30"
    )
    set_field(again, "engine.rails.blackouts", "2026-12-07 14:00 - 2026-12-07 13:00")
    click_save(again)
    assert again.error.text() == "Blackouts (news): every window must end after it starts"
    assert again.fields["engine.rails.blackouts"].widget.property("invalid") is True
    again.reject()


@pytest.mark.qasync
async def test_the_theme_setting_applies_at_once(services: Services, bridge: EngineBridge, tmp_path: Path) -> None:
    config = tmp_path / "dtms.toml"
    w = window(services, bridge, config)
    themes().apply(ThemeChoice.LIGHT)
    try:
        dialog = w.open_settings("Window")
        set_field(dialog, "window.theme", "dark")
        click_save(dialog)
        assert load_settings(config).window.theme is ThemeName.DARK
        assert current() is DARK
    finally:
        themes().apply(ThemeChoice.LIGHT)
    assert current() is LIGHT
