"""Editors for single settings, each reading and writing its value as the settings file holds it.

The editor for a key is chosen from the type the settings dataclasses declare for it, so the form cannot
disagree with the file about what a value is. Editors check no rules: numbers take any value in a wide
range and lists take any text, and ``app.config`` judges the result exactly as it judges the file.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, get_args, get_origin, get_type_hints

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

logger = logging.getLogger(__name__)

NUMBER_LIMIT = 1e9
INT_LIMIT = 2**31 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One editable setting: ``key`` is its dotted path in the file (``engine.protection.breakeven_r``);
    ``read`` and ``write`` take the value as the file holds it (an enumeration as its text, a list as a list)."""

    key: str
    widget: QWidget
    read: Callable[[], Any]
    write: Callable[[Any], None]


class NumberBox(QDoubleSpinBox):
    """A spin box that shows a number as briefly as it can (``1.5``, not ``1.500000``)."""

    def __init__(self, suffix: str = "") -> None:
        super().__init__()
        self.setDecimals(6)
        self.setRange(-NUMBER_LIMIT, NUMBER_LIMIT)
        self.setSuffix(suffix)

    def textFromValue(self, value: float) -> str:
        text = self.locale().toString(value, "f", self.decimals()).replace(self.locale().groupSeparator(), "")
        point = self.locale().decimalPoint()
        return text.rstrip("0").rstrip(point) if point in text else text


def fit_digits(box: QWidget, digits: str = "-000000.00") -> None:
    """Wide enough for ``digits`` and the box's suffix, so numbers are never cut."""
    suffix = box.suffix() if hasattr(box, "suffix") else ""
    box.setMinimumWidth(box.fontMetrics().horizontalAdvance(digits + suffix) + 40)


def hint_of(root: type, key: str) -> Any:
    """The declared type of a dotted key below a settings dataclass."""
    hint: Any = root
    for name in key.split("."):
        if not dataclasses.is_dataclass(hint):
            raise KeyError(key)
        hint = get_type_hints(hint)[name]
    return hint


def parse_int_list(text: str) -> list[Any]:
    """Comma- or space-separated whole numbers; an item that is not one stays text for the settings to name."""
    items = [item for item in text.replace(",", " ").split() if item]
    return [int(item) if item.lstrip("+-").isdigit() else item for item in items]


def editor(root: type, key: str, *, suffix: str = "", choices: Mapping[str, str] | None = None) -> Field:
    """An editor for ``key`` of the dataclass ``root``. ``choices`` names an enumeration's values for people."""
    hint = hint_of(root, key)
    if hint is bool:
        box = QCheckBox()
        return Field(key=key, widget=box, read=box.isChecked, write=lambda v: box.setChecked(bool(v)))
    if hint is int:
        spin = QSpinBox()
        spin.setRange(-INT_LIMIT, INT_LIMIT)
        spin.setSuffix(suffix)
        fit_digits(spin)
        return Field(key=key, widget=spin, read=spin.value, write=lambda v: spin.setValue(int(v)))
    if hint is float:
        number = NumberBox(suffix)
        fit_digits(number)
        return Field(key=key, widget=number, read=number.value, write=lambda v: number.setValue(float(v)))
    if hint is str:
        line = QLineEdit()
        return Field(key=key, widget=line, read=line.text, write=lambda v: line.setText(str(v)))
    if isinstance(hint, type) and issubclass(hint, Enum):
        combo = QComboBox()
        for member in hint:
            combo.addItem((choices or {}).get(member.value, member.value), member.value)
        return Field(
            key=key, widget=combo, read=combo.currentData, write=lambda v: combo.setCurrentIndex(combo.findData(v))
        )
    if get_origin(hint) is tuple and get_origin(get_args(hint)[0]) is tuple:  # (start, end) windows
        return blackout_editor(key)
    if get_origin(hint) is tuple and get_args(hint)[0] is int:
        line = QLineEdit()
        line.setPlaceholderText("e.g. 1001, 1002")
        return Field(
            key=key,
            widget=line,
            read=lambda: parse_int_list(line.text()),
            write=lambda v: line.setText(", ".join(str(i) for i in v)),
        )
    raise TypeError(f"no editor for {key} ({hint})")


def get_path(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for name in key.split("."):
        value = value[name]
    return value


def set_path(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for name in parents:
        data = data[name]
    data[last] = value


#: how a blackout window is written: terminal (server) time, one window per line
BLACKOUT_FORMAT = "%Y-%m-%d %H:%M"


def format_blackouts(windows: Any) -> str:
    return "\n".join(
        f"{datetime.fromtimestamp(start, tz=UTC):{BLACKOUT_FORMAT}} - "
        f"{datetime.fromtimestamp(end, tz=UTC):{BLACKOUT_FORMAT}}"
        for start, end in windows
    )


def parse_blackouts(text: str) -> list[Any]:
    """``2026-12-07 13:30 - 2026-12-07 14:00`` per line, as [start, end] epoch seconds; a line that does not
    read as two times stays text, for the settings to name."""
    windows: list[Any] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        parts = [part.strip() for part in line.replace(" to ", " - ").split(" - ")]
        try:
            start, end = (datetime.strptime(part, BLACKOUT_FORMAT).replace(tzinfo=UTC).timestamp() for part in parts)
        except ValueError:
            windows.append(line)
            continue
        windows.append([start, end])
    return windows


def blackout_editor(key: str) -> Field:
    box = QPlainTextEdit()
    box.setPlaceholderText("2026-12-07 13:30 - 2026-12-07 14:00  (terminal time, one window per line)")
    box.setFixedHeight(box.fontMetrics().lineSpacing() * 4 + 12)
    return Field(
        key=key,
        widget=box,
        read=lambda: parse_blackouts(box.toPlainText()),
        write=lambda v: box.setPlainText(format_blackouts(v)),
    )
