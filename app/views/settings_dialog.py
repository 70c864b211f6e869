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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import AppSettings, save_settings, settings_from_dict, settings_to_dict
from app.engine.settings import AdoptionPolicy, EngineSettings
from app.errors import InvalidSettings
from app.views.alerts_page import HELP as ALERTS_HELP
from app.views.alerts_page import LABELS as ALERTS_LABELS
from app.views.alerts_page import AlertsPage
from app.views.settings_fields import Field, editor, get_path, set_path

logger = logging.getLogger(__name__)

#: (key, label, unit suffix) of each field, by page and group
Group = tuple[str, tuple[tuple[str, str, str], ...]]
PAGES: tuple[tuple[str, str, tuple[Group, ...]], ...] = (
    (
        "Endpoint",
        "The HTTP endpoint the trading bots call. Changes here apply after a restart.",
        (
            (
                "HTTP endpoint",
                (
                    ("api.host", "Host", ""),
                    ("api.port", "Port (0 picks a free one)", ""),
                    ("api.require_token", "Require a token on loopback too", ""),
                ),
            ),
        ),
    ),
    (
        "Protection",
        "Applied to the running engine when saved.",
        (
            ("Cycle", (("engine.cycle.fast_interval_s", "Fast cycle every", " s"),)),
            (
                "Profit protection",
                (
                    ("engine.protection.breakeven_r", "Breakeven at", " R"),
                    ("engine.protection.breakeven_lock_r", "Breakeven locks", " R"),
                    ("engine.protection.partial_r", "Partial close at", " R"),
                    ("engine.protection.partial_fraction", "Partial close share", ""),
                    ("engine.protection.trail_atr_multiple", "Trailing stop", " x ATR"),
                    ("engine.protection.min_sl_change_r", "Smallest SL move", " R"),
                    ("engine.protection.min_sl_interval_s", "Least time between SL moves", " s"),
                ),
            ),
        ),
    ),
    (
        "Defense",
        "Scores are the deep check's total weighted score. Applied to the running engine when saved.",
        (
            (
                "Thresholds",
                (
                    ("engine.defense.warning_l1_score", "WARNING_L1 at or below", ""),
                    ("engine.defense.warning_l2_score", "WARNING_L2 at or below", ""),
                    ("engine.defense.hedge_score", "HEDGED at or below", ""),
                    ("engine.defense.healthy_again_score", "HEALTHY again at or above", ""),
                    ("engine.defense.l1_again_score", "Back to WARNING_L1 at or above", ""),
                    ("engine.defense.readd_min_score", "Re-add when recovered at or above", ""),
                ),
            ),
            (
                "Actions",
                (
                    ("engine.defense.tighten_r", "Tightened SL behind price", " R"),
                    ("engine.defense.close_fraction", "Share closed at WARNING_L2", ""),
                    ("engine.defense.hedge_fraction", "Hedge volume share", ""),
                    ("engine.defense.hedge_sl_atr", "Hedge SL", " x ATR"),
                    ("engine.defense.readd_fraction", "Share re-added", ""),
                ),
            ),
            (
                "Timers",
                (
                    ("engine.defense.flat_timer_s", "Flat timer", " s"),
                    ("engine.defense.recovery_timer_s", "Recovery timer", " s"),
                    ("engine.defense.warning_decay_s", "Warnings forgotten after", " s"),
                ),
            ),
        ),
    ),
    (
        "Safety rails",
        (
            "While a rail is tripped DTMS adds no risk (no hedge, no re-add); SL moves and closes go on. "
            "Applied to the running engine when saved."
        ),
        (
            (
                "Loss limits",
                (
                    ("engine.rails.daily_loss_pct", "Daily loss limit", " % of balance"),
                    ("engine.rails.hourly_loss_pct", "Hourly loss limit", " % of balance"),
                    ("engine.rails.max_consecutive_stopouts", "Losing stop-outs in a row", " trades"),
                ),
            ),
            (
                "Market conditions",
                (
                    ("engine.rails.spread_median_multiple", "Spread too wide above", " x median"),
                    ("engine.rails.max_bar_age_s", "Prices stale after", " s"),
                ),
            ),
            ("Blackout windows", (("engine.rails.blackouts", "Blackouts (news)", ""),)),
        ),
    ),
    (
        "Adoption",
        "Open positions the database does not know, found at start or while running.",
        (
            (
                "Adoption policy",
                (
                    ("engine.adoption.policy", "Adopt", ""),
                    ("engine.adoption.magics", "Magic numbers", ""),
                    ("engine.adoption.comment_prefix", "Comment prefix", ""),
                ),
            ),
        ),
    ),
    ("Window", "How the window looks.", (("Appearance", (("window.theme", "Theme", ""),)),)),
)

POLICY_NAMES = {
    AdoptionPolicy.ALL.value: "every position",
    AdoptionPolicy.NONE.value: "no position",
    AdoptionPolicy.MAGIC.value: "positions with one of these magic numbers",
    AdoptionPolicy.COMMENT_PREFIX.value: "positions whose comment starts with the prefix",
    "light": "light",
    "dark": "dark",
    "system": "the system's",
}
RESTART_NOTE = "Endpoint changes apply after a restart."

#: one line per field: what it does, in a trader's words
HELP: dict[str, str] = {
    "api.host": "The address bots connect to; 127.0.0.1 keeps it on this computer.",
    "api.port": "The port bots connect to; 0 lets the system pick a free one at each start.",
    "api.require_token": "Bots must send the token from the data folder (always required off this computer).",
    "engine.cycle.fast_interval_s": "How often DTMS reads prices and positions and protects the trades.",
    "engine.protection.breakeven_r": "Profit (in R, multiples of the initial risk) at which the SL moves to entry.",
    "engine.protection.breakeven_lock_r": "How far past entry the breakeven SL goes, to cover costs.",
    "engine.protection.partial_r": "Profit at which part of the trade is closed.",
    "engine.protection.partial_fraction": "Share of the volume closed then (0.5 = half).",
    "engine.protection.trail_atr_multiple": "After the partial, the SL follows the price at this many ATRs.",
    "engine.protection.min_sl_change_r": "Smaller SL moves are not sent (fewer requests to the broker).",
    "engine.protection.min_sl_interval_s": "Shortest time between two SL moves of one trade.",
    "engine.defense.warning_l1_score": "A healthy trade whose score falls this low becomes WARNING_L1 (SL tightened).",
    "engine.defense.warning_l2_score": "A score this low makes it WARNING_L2 (part of it closed).",
    "engine.defense.hedge_score": "A score this low makes it HEDGED (an opposite position opened).",
    "engine.defense.healthy_again_score": "A WARNING_L1 trade whose score recovers to this is HEALTHY again.",
    "engine.defense.l1_again_score": "A WARNING_L2 trade whose score recovers to this is back to WARNING_L1.",
    "engine.defense.readd_min_score": "A recovering trade with at least this score gets its closed part back.",
    "engine.defense.tighten_r": "At WARNING_L1 the SL moves to this distance behind the price.",
    "engine.defense.close_fraction": "Share of the volume closed at WARNING_L2.",
    "engine.defense.hedge_fraction": "Hedge volume as a share of the trade's volume.",
    "engine.defense.hedge_sl_atr": "SL distance of the hedge, in ATRs.",
    "engine.defense.readd_fraction": "Share of the closed volume put back when the trade recovers.",
    "engine.defense.flat_timer_s": "A hedged trade that stays flat this long is closed.",
    "engine.defense.recovery_timer_s": "How long a recovering trade is watched before it is judged.",
    "engine.defense.warning_decay_s": "Warnings older than this no longer count.",
    "engine.rails.daily_loss_pct": "Loss today (closed and floating) that blocks new risk for the rest of the day.",
    "engine.rails.hourly_loss_pct": "Loss in the last hour that blocks new risk until it falls under the limit.",
    "engine.rails.max_consecutive_stopouts": "This many losing stop-outs in a row block new risk.",
    "engine.rails.spread_median_multiple": "A spread this many times its usual size blocks new risk on the symbol.",
    "engine.rails.max_bar_age_s": "Bars older than this block new risk on the symbol (the feed may be stuck).",
    "engine.rails.blackouts": "No new risk inside these windows (news): one per line, terminal time.",
    "engine.adoption.policy": "Which positions opened outside the bots DTMS takes over.",
    "engine.adoption.magics": "Positions with one of these magic numbers are taken over.",
    "engine.adoption.comment_prefix": "Positions whose comment starts with this are taken over.",
    "window.theme": "Light, dark, or the operating system's colours (applied at once).",
    **ALERTS_HELP,
}


class SettingsDialog(QDialog):
    """``settings`` is the copy to edit; ``path`` the file to write; ``apply`` takes the saved engine settings
    (``engine.update_settings``). ``saved`` carries the settings written, once they are written and applied,
    and whether the endpoint changed (which takes a restart)."""

    saved = Signal(object, bool)

    def __init__(
        self,
        settings: AppSettings,
        *,
        path: Path,
        apply: Callable[[EngineSettings], None],
        notice: str = "",
        listening: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("DTMS Desk settings")
        self.resize(760, 700)
        self._base = settings
        self._path = path
        self._apply = apply
        self.fields: dict[str, Field] = {}
        self.labels: dict[str, str] = {}
        self._pages: dict[str, QWidget] = {}
        self.tabs = QTabWidget()
        self.listening = QLabel(_listening_text(listening, settings))
        self.listening.setWordWrap(True)
        self.listening.setObjectName("listeningNow")
        self.listening.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for title, note, groups in PAGES:
            page = self._page(note, groups, path, self.listening if title == "Endpoint" else None)
            self._pages.update({key: page for _group, rows in groups for key, _label, _unit in rows})
            self.tabs.addTab(page, title)
        self.alerts_page = AlertsPage()
        self.fields.update(self.alerts_page.fields)
        self.labels.update({key: ALERTS_LABELS[key] for key in self.alerts_page.fields})
        self._pages.update({key: self.alerts_page for key in self.alerts_page.fields})
        self.tabs.addTab(self.alerts_page, "Alerts")
        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
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
        if notice:
            self._show_error(notice)

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
        logger.info(
            "settings saved to %s and applied to the engine%s",
            self._path,
            f"; {RESTART_NOTE.lower()}" if endpoint_changed else "",
        )
        self.saved.emit(settings, endpoint_changed)
        self.accept()
        return settings

    def _page(self, note: str, groups: tuple[Group, ...], path: Path, top: QWidget | None = None) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        hint = QLabel(note)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        if top is not None:
            layout.addWidget(top)
        for title, rows in groups:
            box = QGroupBox(title)
            form = QFormLayout(box)
            for key, label, unit in rows:
                field = editor(AppSettings, key, suffix=unit, choices=POLICY_NAMES)
                help_text = HELP.get(key, "")
                where = f"{key} in {path.name}"
                field.widget.setToolTip(f"{help_text}\n({where})" if help_text else where)
                self.fields[key] = field
                self.labels[key] = label
                column = QVBoxLayout()
                column.setSpacing(1)
                column.addWidget(field.widget)
                if help_text:
                    line = QLabel(help_text)
                    line.setObjectName("fieldHelp")
                    line.setWordWrap(True)
                    column.addWidget(line)
                form.addRow(label, column)
            layout.addWidget(box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _show_error(self, message: str) -> None:
        text, key = worded(message, self.labels)
        self.error.setText(text)
        self.error.show()
        field = self.fields.get(key) if key else None
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


def _listening_text(url: str, settings: AppSettings) -> str:
    if not url:
        return "The endpoint is not running."
    text = f"Listening now on {url}"
    if settings.api.port == 0:
        text += " (port 0: a free port picked at start)"
    elif url.rsplit(":", 1)[-1].rstrip("/") != str(settings.api.port):
        text += " (this run's address, set on the command line; the fields below are the file's)"
    return text


def worded(message: str, labels: dict[str, str]) -> tuple[str, str | None]:
    """An InvalidSettings message in the form's words, and the key of the field it is about (None: no field).

    ``protection.breakeven_lock_r must be below breakeven_r`` -> ``Breakeven locks: must be below "Breakeven at"``.
    Messages name keys in full (``api.port``), without ``engine.`` (engine rules), with an item index
    (``engine.adoption.magics[1]``), or only by a field's last name inside the sentence."""
    key, rest, item = None, message, ""
    for candidate in sorted(labels, key=len, reverse=True):
        for name in (candidate, candidate.removeprefix("engine.")):
            if message.startswith(name) and message[len(name) : len(name) + 1] in (" ", "[", ":"):
                key, rest = candidate, message[len(name) :]
                break
        if key:
            break
    if key:
        found = re.match(r"\[(\d+)\]", rest)
        if found:
            item, rest = f" (item {int(found.group(1)) + 1})", rest[found.end() :]
        rest = rest.removeprefix(":").strip()
    else:
        named = [k for k in labels if re.search(rf"\b{re.escape(k.rsplit('.', 1)[1])}\b", message)]
        key = named[0] if named else None
    section = key.rsplit(".", 1)[0] if key else ""
    for other, label in labels.items():
        if key is None or other.rsplit(".", 1)[0] == section:
            rest = re.sub(rf"(?<![\w.]){re.escape(other.rsplit('.', 1)[1])}\b", f'"{label}"', rest)
    if key is None or not message.startswith((key, key.removeprefix("engine."))):
        return rest[:1].upper() + rest[1:], key
    return f"{labels[key]}{item}: {rest}", key
