"""The settings dialog from the window's File menu: a valid edit is written, re-read identically and applied
to the engine; a value the settings file would refuse shows the same message and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from app.config import AppSettings, TerminalSettings, load_settings, save_settings, settings_to_dict
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from app.views.settings_dialog import SettingsDialog


def window(services: Services, bridge: EngineBridge, config: Path) -> MainWindow:
    return MainWindow(
        bridge,
        quit_program=lambda: None,
        simulated=True,
        terminal="simulator",
        database=services.data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=config,
    )


def open_dialog(w: MainWindow) -> SettingsDialog:
    w.settings_action.trigger()
    assert w.settings_dialog is not None and w.settings_dialog.isVisible()
    return w.settings_dialog


def set_field(dialog: SettingsDialog, key: str, value) -> None:
    widget = dialog.fields[key].widget
    if hasattr(widget, "setValue"):
        widget.setValue(value)
    elif hasattr(widget, "setChecked"):
        widget.setChecked(value)
    elif hasattr(widget, "findData"):
        widget.setCurrentIndex(widget.findData(value))
    elif hasattr(widget, "setPlainText"):
        widget.setPlainText(value)
    else:
        widget.setText(value)


def click_save(dialog: SettingsDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


@pytest.mark.qasync
async def test_a_valid_edit_is_saved_reread_and_applied(
    services: Services, bridge: EngineBridge, tmp_path: Path, qtbot
) -> None:
    config = tmp_path / "dtms.toml"
    on_disk = AppSettings(terminal=TerminalSettings(kind="sim", login=5000123, server="Broker-Demo"))
    save_settings(config, on_disk)
    w = window(services, bridge, config)
    dialog = open_dialog(w)
    assert dialog.fields["engine.protection.breakeven_r"].read() == 1.5
    assert not dialog.fields["engine.adoption.magics"].widget.isEnabled(), "policy 'all' needs no magic numbers"
    edits = {
        "api.port": 8123,
        "api.require_token": True,
        "engine.cycle.fast_interval_s": 2.5,
        "engine.protection.breakeven_r": 1.2,
        "engine.protection.breakeven_lock_r": 0.2,
        "engine.protection.partial_r": 2.0,
        "engine.protection.partial_fraction": 0.25,
        "engine.protection.trail_atr_multiple": 3.0,
        "engine.protection.min_sl_change_r": 0.05,
        "engine.protection.min_sl_interval_s": 30.0,
        "engine.defense.warning_l1_score": -1.5,
        "engine.defense.flat_timer_s": 3600.0,
        "engine.adoption.policy": "magic",
        "engine.adoption.magics": "1001, 1002",
    }
    for key, value in edits.items():
        set_field(dialog, key, value)
    assert dialog.fields["engine.adoption.magics"].widget.isEnabled()
    saved: list[AppSettings] = []
    dialog.saved.connect(lambda settings, _endpoint: saved.append(settings))
    click_save(dialog)

    assert len(saved) == 1 and w.settings_dialog is None, "saved and closed"
    again = load_settings(config)
    assert again == saved[0]
    assert again.api.port == 8123 and again.api.require_token
    p = again.engine.protection
    assert (p.breakeven_r, p.breakeven_lock_r, p.partial_r, p.partial_fraction) == (1.2, 0.2, 2.0, 0.25)
    assert (p.trail_atr_multiple, p.min_sl_change_r, p.min_sl_interval_s) == (3.0, 0.05, 30.0)
    assert again.engine.cycle.fast_interval_s == 2.5
    assert again.engine.defense.warning_l1_score == -1.5 and again.engine.defense.flat_timer_s == 3600.0
    assert again.engine.adoption.policy.value == "magic" and again.engine.adoption.magics == (1001, 1002)
    assert again.terminal == on_disk.terminal, "sections the dialog does not show are kept"
    assert services.engine.settings == again.engine, "engine settings applied live"
    assert "apply after a restart" in w.statusBar().currentMessage()

    reopened = open_dialog(w)
    assert reopened.form_data() == settings_to_dict(again), "the form shows the file exactly as written"
    typed = reopened.fields["engine.protection.partial_r"].widget
    typed.selectAll()
    qtbot.keyClicks(typed, "1.8")  # typed, as the trader does, then Save at once
    click_save(reopened)
    assert load_settings(config).engine.protection.partial_r == 1.8
    assert "restart" not in w.statusBar().currentMessage(), "the endpoint did not change this time"


@pytest.mark.qasync
async def test_an_invalid_value_shows_the_message_and_saves_nothing(
    services: Services, bridge: EngineBridge, tmp_path: Path
) -> None:
    config = tmp_path / "dtms.toml"
    w = window(services, bridge, config)
    before = services.engine.settings
    dialog = open_dialog(w)
    dialog.tabs.setCurrentIndex(0)

    cases = [
        ("engine.protection.partial_fraction", 1.5, "Partial close share: must be between 0 and 1"),
        ("engine.protection.breakeven_lock_r", 1.5, 'Breakeven locks: must be below "Breakeven at"'),
        ("engine.defense.close_fraction", 0.0, "Share closed at WARNING_L2: must be in (0, 1]"),
        ("api.port", 70000, "Port (0 picks a free one): must be between 0 and 65535"),
        ("api.host", "  ", "Host: must not be empty"),
        ("engine.adoption.magics", "1001, twelve", "Magic numbers (item 2): must be a whole number"),
        ("engine.rails.hourly_loss_pct", 0.0, "Hourly loss limit: must be positive"),
        ("engine.rails.blackouts", "tomorrow at noon", "Blackouts (news) (item 1): must be a list"),
    ]
    for key, bad, message in cases:
        good = dialog.fields[key].read()
        set_field(dialog, key, bad)
        click_save(dialog)
        assert dialog.isVisible() and dialog.error.isVisible()
        assert dialog.error.text() == message
        assert "." not in message.split(":")[0], "no file key in the words"
        assert dialog.fields[key].widget.property("invalid") is True, f"{key} is marked"
        assert dialog.tabs.currentWidget().isAncestorOf(dialog.fields[key].widget), "its page is shown"
        assert not config.exists() and services.engine.settings == before, "nothing saved or applied"
        dialog.fields[key].write(good if key != "engine.adoption.magics" else [1001])

    click_save(dialog)
    assert config.exists() and w.settings_dialog is None
    assert load_settings(config).engine.adoption.magics == (1001,)


@pytest.mark.qasync
async def test_a_broken_file_opens_on_the_settings_in_use(
    services: Services, bridge: EngineBridge, tmp_path: Path
) -> None:
    config = tmp_path / "dtms.toml"
    config.write_text('[api]\nport = "eighty"\n', encoding="utf-8")
    dialog = open_dialog(window(services, bridge, config))
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("Port (0 picks a free one): must be a whole number")
    assert dialog.fields["api.port"].widget.property("invalid") is True
    assert dialog.form_data() == settings_to_dict(services.settings)
    click_save(dialog)
    assert load_settings(config) == services.settings, "saving replaced the broken file"
