"""The settings dialog's Alerts page: sounds, quiet hours and push URLs are saved with the file's rules, a bad
time marks its field, and "Send test" reports what apprise answered without blocking the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox

from app.config import AppSettings, load_settings
from app.views.settings_dialog import SettingsDialog


def dialog(tmp_path: Path) -> SettingsDialog:
    return SettingsDialog(AppSettings(), path=tmp_path / "dtms.toml", apply=lambda _s: None)


def test_alert_settings_are_saved(qtbot, tmp_path: Path) -> None:
    d = dialog(tmp_path)
    qtbot.addWidget(d)
    assert d.tabs.tabText(d.tabs.count() - 1) == "Alerts"
    d.fields["alerts.sound_info"].widget.setChecked(True)
    d.fields["alerts.quiet_from"].widget.setText("23:00")
    d.fields["alerts.quiet_to"].widget.setText("06:30")
    d.fields["alerts.push_urls"].widget.setPlainText("ntfy://dtms-desk\n\ntgram://bot/chat\n")
    combo = d.fields["alerts.push_min_severity"].widget
    combo.setCurrentIndex(combo.findData("action failed"))
    d.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    alerts = load_settings(tmp_path / "dtms.toml").alerts
    assert alerts.sound_info and (alerts.quiet_from, alerts.quiet_to) == ("23:00", "06:30")
    assert alerts.push_urls == ("ntfy://dtms-desk", "tgram://bot/chat") and alerts.push_min_severity == "action failed"


def test_a_bad_time_marks_its_field_and_writes_nothing(qtbot, tmp_path: Path) -> None:
    d = dialog(tmp_path)
    qtbot.addWidget(d)
    d.fields["alerts.quiet_to"].widget.setText("7 o'clock")
    d.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert d.error.text().startswith("Quiet until: ") and d.fields["alerts.quiet_to"].widget.property("invalid")
    assert d.tabs.currentWidget() is d.alerts_page and not (tmp_path / "dtms.toml").exists()


def test_send_test_reports_the_answer(qtbot, tmp_path: Path) -> None:
    d = dialog(tmp_path)
    qtbot.addWidget(d)
    page = d.alerts_page
    page.test_button.click()
    assert page.test_result.text() == "Enter at least one URL first."
    page.fields["alerts.push_urls"].widget.setPlainText("json://127.0.0.1:9/dtms")  # nothing listens on port 9
    page.test_button.click()
    assert not page.test_button.isEnabled() and page.test_result.text() == "Sending..."
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=10_000)
    assert page.test_result.text().startswith("Not sent: ")
