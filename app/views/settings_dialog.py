"""The settings dialog: the endpoint, the fast cycle, profit protection, the defensive state machine and the
adoption policy, edited on a copy of the settings.

Saving builds the file's content from the form and hands it to ``app.config`` (``settings_from_dict``), so
the form obeys exactly the rules the file does. A value that breaks one shows the message beside the form,
marks the field it names, and nothing is written or applied. A valid form is written with
``save_settings``; the engine's part takes effect at once through the ``apply`` callable, the endpoint's
after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QLabel, QTabWidget, QVBoxLayout,
                               QWidget)

from app.config import AppSettings, save_settings, settings_from_dict, settings_to_dict
from app.engine.settings import AdoptionPolicy, EngineSettings
from app.errors import InvalidSettings
from app.views.settings_fields import Field, editor, get_path, set_path

logger = logging.getLogger(__name__)

#: (key, label, unit suffix) of each field, by page and group
Group = tuple[str, tuple[tuple[str, str, str], ...]]
PAGES: tuple[tuple[str, str, tuple[Group, ...]], ...] = (
    ("Endpoint", "The HTTP endpoint the trading bots call. Changes here apply after a restart.", (
        ("HTTP endpoint", (
            ("api.host", "Host", ""),
            ("api.port", "Port (0 picks a free one)", ""),
            ("api.require_token", "Require a token on loopback too", ""),
        )),
    )),
    ("Protection", "Applied to the running engine when saved.", (
        ("Cycle", (
            ("engine.cycle.fast_interval_s", "Fast cycle every", " s"),
        )),
        ("Profit protection", (
            ("engine.protection.breakeven_r", "Breakeven at", " R"),
            ("engine.protection.breakeven_lock_r", "Breakeven locks", " R"),
            ("engine.protection.partial_r", "Partial close at", " R"),
            ("engine.protection.partial_fraction", "Partial close share", ""),
            ("engine.protection.trail_atr_multiple", "Trailing stop", " x ATR"),
            ("engine.protection.min_sl_change_r", "Smallest SL move", " R"),
            ("engine.protection.min_sl_interval_s", "Least time between SL moves", " s"),
        )),
    )),
    ("Defense", "Scores are the deep check's total weighted score. Applied to the running engine when saved.", (
        ("Thresholds", (
            ("engine.defense.warning_l1_score", "WARNING_L1 at or below", ""),
            ("engine.defense.warning_l2_score", "WARNING_L2 at or below", ""),
            ("engine.defense.hedge_score", "HEDGED at or below", ""),
            ("engine.defense.healthy_again_score", "HEALTHY again at or above", ""),
            ("engine.defense.l1_again_score", "Back to WARNING_L1 at or above", ""),
            ("engine.defense.readd_min_score", "Re-add when recovered at or above", ""),
        )),
        ("Actions", (
            ("engine.defense.tighten_r", "Tightened SL behind price", " R"),
            ("engine.defense.close_fraction", "Share closed at WARNING_L2", ""),
            ("engine.defense.hedge_fraction", "Hedge volume share", ""),
            ("engine.defense.hedge_sl_atr", "Hedge SL", " x ATR"),
            ("engine.defense.readd_fraction", "Share re-added", ""),
        )),
        ("Timers", (
            ("engine.defense.flat_timer_s", "Flat timer", " s"),
            ("engine.defense.recovery_timer_s", "Recovery timer", " s"),
            ("engine.defense.warning_decay_s", "Warnings forgotten after", " s"),
        )),
    )),
    ("Adoption", "Open positions the database does not know, found at start or while running.", (
        ("Adoption policy", (
            ("engine.adoption.policy", "Adopt", ""),
            ("engine.adoption.magics", "Magic numbers", ""),
            ("engine.adoption.comment_prefix", "Comment prefix", ""),
        )),
    )),
)

POLICY_NAMES = {
    AdoptionPolicy.ALL.value: "every position",
    AdoptionPolicy.NONE.value: "no position",
    AdoptionPolicy.MAGIC.value: "positions with one of these magic numbers",
    AdoptionPolicy.COMMENT_PREFIX.value: "positions whose comment starts with the prefix",
}
RESTART_NOTE = "Endpoint changes apply after a restart."


class SettingsDialog(QDialog):
    """``settings`` is the copy to edit; ``path`` the file to write; ``apply`` takes the saved engine settings
    (``engine.update_settings``). ``saved`` carries the settings written, once they are written and applied,
    and whether the endpoint changed (which takes a restart)."""

    saved = Signal(object, bool)

    def __init__(self, settings: AppSettings, *, path: Path, apply: Callable[[EngineSettings], None],
                 notice: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DTMS Desk settings")
        self._base = settings
        self._path = path
        self._apply = apply
        self.fields: dict[str, Field] = {}
        self._pages: dict[str, QWidget] = {}
        self.tabs = QTabWidget()
        for title, note, groups in PAGES:
            page = self._page(note, groups, path)
            self._pages.update({key: page for _group, rows in groups for key, _label, _unit in rows})
            self.tabs.addTab(page, title)
        self.error = QLabel(notice)
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setVisible(bool(notice))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(QLabel(f"File: {path}"))
        layout.addWidget(self.buttons)
        self.load(settings)
        policy = self.fields["engine.adoption.policy"].widget
        policy.currentIndexChanged.connect(self._sync_adoption)  # type: ignore[attr-defined]
        self._sync_adoption()

    def show_page(self, title: str) -> None:
        """Bring the page titled ``title`` to the front (no page of that title: nothing changes)."""
        for index in range(self.tabs.count()):
            if self.tabs.tabText(index) == title:
                self.tabs.setCurrentIndex(index)

    def load(self, settings: AppSettings) -> None:
        """Show ``settings`` in the form."""
        data = settings_to_dict(settings)
        for key, field in self.fields.items():
            field.write(get_path(data, key))

    def form_data(self) -> dict[str, Any]:
        """The settings file's content: the edited copy with every field of the form written over it."""
        data = settings_to_dict(self._base)
        for key, field in self.fields.items():
            set_path(data, key, field.read())
        return data

    def save(self) -> AppSettings | None:
        """Validate, write and apply; on a broken rule show it and return None (nothing written)."""
        self._mark(None)
        try:
            settings = settings_from_dict(self.form_data())
            save_settings(self._path, settings)
        except InvalidSettings as error:
            self._show_error(str(error))
            return None
        except OSError as error:
            self._show_error(f"cannot write {self._path}: {error.strerror or error}")
            return None
        self._apply(settings.engine)
        endpoint_changed = settings.api != self._base.api
        logger.info("settings saved to %s and applied to the engine%s", self._path,
                    f"; {RESTART_NOTE.lower()}" if endpoint_changed else "")
        self.saved.emit(settings, endpoint_changed)
        self.accept()
        return settings

    def _page(self, note: str, groups: tuple[Group, ...], path: Path) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        hint = QLabel(note)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        for title, rows in groups:
            box = QGroupBox(title)
            form = QFormLayout(box)
            for key, label, unit in rows:
                field = editor(AppSettings, key, suffix=unit, choices=POLICY_NAMES)
                field.widget.setToolTip(f"{key} in {path.name}")
                self.fields[key] = field
                form.addRow(label, field.widget)
            layout.addWidget(box)
        layout.addStretch(1)
        return page

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        field = next((f for key, f in self.fields.items() if _names(message, key)), None)
        self._mark(field)
        if field is not None:
            self.tabs.setCurrentWidget(self._pages[field.key])
            field.widget.setFocus()

    def _mark(self, field: Field | None) -> None:
        for f in self.fields.values():
            invalid = f is field
            if bool(f.widget.property("invalid")) != invalid:
                f.widget.setProperty("invalid", invalid)
                f.widget.style().unpolish(f.widget)
                f.widget.style().polish(f.widget)

    def _sync_adoption(self) -> None:
        policy = self.fields["engine.adoption.policy"].read()
        self.fields["engine.adoption.magics"].widget.setEnabled(policy == AdoptionPolicy.MAGIC.value)
        self.fields["engine.adoption.comment_prefix"].widget.setEnabled(policy == AdoptionPolicy.COMMENT_PREFIX.value)


def _names(message: str, key: str) -> bool:
    """Whether an InvalidSettings message is about ``key`` (engine rules name keys without ``engine.``)."""
    return any(message.startswith(k) and message[len(k):len(k) + 1] in (" ", "[")
               for k in (key, key.removeprefix("engine.")))
