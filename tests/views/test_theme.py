"""Themes: light, dark and the system's switch the whole application; the header, the selection, the state
colours and the chart colours follow, and the choice comes from ``--theme`` or the settings file."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QTableWidget, QWidget

from app.cli import parse
from app.config import ThemeName, load_settings, save_settings
from app.engine.model import DefensiveState
from app.views.palette import state_colour
from app.views.program import STYLE_SHEET
from app.views.theme import DARK, LIGHT, Theme, ThemeChoice, current, themes


@pytest.fixture
def styled(qapp: QApplication):
    previous = qapp.styleSheet()
    qapp.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    yield qapp
    themes().apply(ThemeChoice.LIGHT)
    qapp.setStyleSheet(previous)


def header_pixel_lightness(qapp: QApplication) -> tuple[int, int]:
    """Lightness of a rendered header section's background and of the table's base."""
    table = QTableWidget(2, 2)
    table.setHorizontalHeaderLabels(["Ticket", "State"])
    table.resize(300, 120)
    table.show()
    qapp.processEvents()
    header = table.horizontalHeader().grab().toImage()
    base = table.viewport().grab().toImage()
    table.close()
    return header.pixelColor(header.width() - 20, 2).lightness(), base.pixelColor(
        base.width() - 5, base.height() - 5
    ).lightness()


def test_dark_and_light_switch_palette_header_and_state_colours(styled: QApplication) -> None:
    seen: list[Theme] = []
    themes().changed.connect(seen.append)
    themes().apply(ThemeChoice.LIGHT)
    light_header, light_base = header_pixel_lightness(styled)
    light_state = state_colour(DefensiveState.WARNING_L1)
    assert current() is LIGHT and light_header > 150 and light_base > 200

    themes().apply(ThemeChoice.DARK)
    assert current() is DARK and seen[-1] is DARK
    assert styled.palette().color(QPalette.ColorRole.Base).lightness() < 80
    dark_header, dark_base = header_pixel_lightness(styled)
    assert dark_header < 100, "the header is not left light under the dark theme"
    assert dark_base < 80
    dark_state = state_colour(DefensiveState.WARNING_L1)
    assert dark_state.lightness() > light_state.lightness(), "state text gets lighter on a dark base"
    assert current().chart.background != LIGHT.chart.background

    themes().apply(ThemeChoice.LIGHT)
    assert seen[-1] is LIGHT and header_pixel_lightness(styled)[0] > 150


@pytest.mark.parametrize("state", list(DefensiveState))
def test_state_colours_are_readable_on_both_bases(state: DefensiveState) -> None:
    def contrast(a: str, b: str) -> float:
        def lum(colour: str) -> float:
            rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
            lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
            return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

        high, low = sorted((lum(a), lum(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    from app.views.palette import STATE_TEXT_DARK, STATE_TEXT_LIGHT

    assert contrast(STATE_TEXT_LIGHT[state], "#ffffff") >= 4.5
    assert contrast(STATE_TEXT_DARK[state], "#1f2124") >= 4.5


def test_theme_from_the_command_line_and_the_settings_file(tmp_path) -> None:
    config = tmp_path / "dtms.toml"
    assert parse(["--config", str(config), "--data-dir", str(tmp_path), "--theme", "dark"]).theme == "dark"
    assert parse(["--config", str(config), "--data-dir", str(tmp_path)]).theme == ""
    from dataclasses import replace

    settings = load_settings(config)
    assert settings.window.theme is ThemeName.SYSTEM
    save_settings(config, replace(settings, window=replace(settings.window, theme=ThemeName.DARK)))
    assert load_settings(config).window.theme is ThemeName.DARK
    config.write_text('[window]\ntheme = "purple"\n', encoding="utf-8")
    with pytest.raises(Exception, match="window.theme"):
        load_settings(config)


def test_the_trade_chart_follows_the_theme(styled: QApplication, bridge) -> None:
    from app.views.detail import DetailPane

    pane = DetailPane(bridge)
    themes().apply(ThemeChoice.LIGHT)
    assert pane.chart.backgroundBrush().color().name() == LIGHT.chart.background
    themes().apply(ThemeChoice.DARK)
    assert pane.chart.backgroundBrush().color().name() == DARK.chart.background
    assert pane.chart.getPlotItem().getAxis("left").pen().color().name() == DARK.chart.foreground


class QBalloonTip(QWidget):
    """Named as the tray balloon Qt draws itself on a desktop without a notification service (pale yellow
    whatever the theme), which the style sheet's rules select by that class name."""

    def __init__(self) -> None:
        super().__init__()
        self.message = QLabel("spread 0.00032 vs median 0.00015", self)


@pytest.mark.parametrize("choice", [ThemeChoice.DARK, ThemeChoice.LIGHT])
def test_the_tray_balloons_text_is_dark_on_its_pale_yellow_in_both_themes(styled: QApplication, choice) -> None:
    themes().apply(choice)
    balloon = QBalloonTip()
    balloon.show()
    styled.processEvents()
    text = balloon.message.palette().color(QPalette.ColorRole.WindowText)
    assert text.lightness() < 60, f"{text.name()} on #ffffe1"
    balloon.close()
    plain = QLabel("elsewhere the theme's text")
    plain.show()
    styled.processEvents()
    assert (plain.palette().color(QPalette.ColorRole.WindowText).lightness() > 150) is (choice is ThemeChoice.DARK)
    plain.close()
