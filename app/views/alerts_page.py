"""The settings dialog's Alerts page: a sound per severity, quiet hours, and the push to a phone (apprise
URLs, the least serious notice pushed, the throttle) with a button that sends a test message now.

The page only edits values; the dialog validates them with the settings file's own rules and saves them.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.alerts.push import PushSender
from app.alerts.sound import SoundPlayer
from app.config import AppSettings
from app.views.settings_fields import Field, editor

logger = logging.getLogger(__name__)

SEVERITIES = ("info", "warning", "action failed")

#: (label, one line in a trader's words) of every field on the page, as the other settings pages word theirs
LABELS: dict[str, str] = {
    "alerts.sound_info": "Sound for information",
    "alerts.sound_warning": "Sound for warnings",
    "alerts.sound_action_failed": "Sound for failed actions",
    "alerts.quiet_from": "Quiet from",
    "alerts.quiet_to": "Quiet until",
    "alerts.push_urls": "Push URLs",
    "alerts.push_min_severity": "Push",
    "alerts.push_interval_s": "At most one push every",
}
HELP: dict[str, str] = {
    "alerts.sound_info": "A short sound for information: breakeven reached, part of a trade taken.",
    "alerts.sound_warning": "A short sound for warnings: a trade at WARNING_L1 or WARNING_L2, or hedged.",
    "alerts.sound_action_failed": "A short sound when an action fails or the terminal is lost.",
    "alerts.quiet_from": "Local time (HH:MM) from which no sound plays and nothing is pushed.",
    "alerts.quiet_to": "Local time (HH:MM) when quiet hours end; the same as 'Quiet from' means none.",
    "alerts.push_urls": "One apprise URL per line (Telegram, Discord, ntfy, e-mail...); empty: no push.",
    "alerts.push_min_severity": "The least serious notice sent to the phone.",
    "alerts.push_interval_s": "Notices arriving meanwhile go out together as one message.",
}


def _urls_field(key: str) -> Field:
    box = QPlainTextEdit()
    box.setPlaceholderText("one apprise URL per line, e.g.\ntgram://bot-token/chat-id\nntfy://my-topic")
    box.setFixedHeight(80)
    return Field(
        key=key,
        widget=box,
        read=lambda: [line.strip() for line in box.toPlainText().splitlines() if line.strip()],
        write=lambda v: box.setPlainText("\n".join(v)),
    )


def _severity_field(key: str) -> Field:
    combo = QComboBox()
    for name in SEVERITIES:
        combo.addItem(
            {
                "info": "everything (info and up)",
                "warning": "warnings and failed actions",
                "action failed": "failed actions only",
            }[name],
            name,
        )
    return Field(
        key=key, widget=combo, read=combo.currentData, write=lambda v: combo.setCurrentIndex(max(0, combo.findData(v)))
    )


class AlertsPage(QWidget):
    """``fields`` are registered with the dialog, which loads, reads, validates and marks them."""

    def __init__(self, *, player: SoundPlayer | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, Field] = {}
        layout = QVBoxLayout(self)
        hint = QLabel("How DTMS gets your attention. Applied when saved.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        sounds = QGroupBox("Sounds")
        form = QFormLayout(sounds)
        for key in ("alerts.sound_info", "alerts.sound_warning", "alerts.sound_action_failed"):
            self._row(form, editor(AppSettings, key))
        available = (player or SoundPlayer()).available
        if not available:
            form.addRow(QLabel("No sound player found on this system (paplay or aplay): sounds stay silent."))
        layout.addWidget(sounds)
        quiet = QGroupBox("Quiet hours (local time)")
        form = QFormLayout(quiet)
        self._row(form, editor(AppSettings, "alerts.quiet_from"))
        self._row(form, editor(AppSettings, "alerts.quiet_to"))
        layout.addWidget(quiet)
        push = QGroupBox("Push to a phone (apprise: Telegram, Discord, ntfy, e-mail...)")
        form = QFormLayout(push)
        self.urls = self._row(form, _urls_field("alerts.push_urls"))
        self._row(form, _severity_field("alerts.push_min_severity"))
        self._row(form, editor(AppSettings, "alerts.push_interval_s", suffix=" s"))
        self.test_button = QPushButton("Send test")
        self.test_button.setToolTip("sends a test message to the URLs above now, before saving")
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.test_result, 1)
        form.addRow(row)
        layout.addWidget(push)
        layout.addStretch(1)
        self.test_button.clicked.connect(self.send_test)
        self._pending: tuple[PushSender, Future[str]] | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check_test)

    def _row(self, form: QFormLayout, field: Field) -> QWidget:
        """The field with its label and, under it, its explanation (as on the other settings pages)."""
        self.fields[field.key] = field
        field.widget.setToolTip(HELP[field.key])
        column = QVBoxLayout()
        column.setSpacing(1)
        column.addWidget(field.widget)
        line = QLabel(HELP[field.key])
        line.setObjectName("fieldHelp")
        line.setWordWrap(True)
        column.addWidget(line)
        form.addRow(LABELS[field.key], column)
        return field.widget

    def send_test(self) -> None:
        """Send through a sender of its own on its own thread; the result shows when it is known."""
        urls = self.fields["alerts.push_urls"].read()
        if not urls:
            self.test_result.setText("Enter at least one URL first.")
            return
        sender = PushSender(urls, interval_s=0.0)
        self._pending = (sender, sender.send_test())
        self.test_button.setEnabled(False)
        self.test_result.setText("Sending...")
        self._poll.start()

    def _check_test(self) -> None:
        if self._pending is None or not self._pending[1].done():
            return
        sender, future = self._pending
        self._pending = None
        self._poll.stop()
        sender.close()
        error = future.result()
        self.test_button.setEnabled(True)
        self.test_result.setText("Sent: check your phone." if not error else f"Not sent: {error}")
