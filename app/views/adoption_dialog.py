"""The first-run question: which open positions may DTMS manage on its own?

Asked once, on the window's first start (the settings file states no ``[engine.adoption] policy`` yet), once
the terminal answers: every choice shows how many of the positions open now it would hand to DTMS. The
answer is written to the settings file and applied to the running engine. Closing the dialog keeps the safe
choice (only positions bots register) and writes it, so the question is not asked again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.adoption import Coverage, adoption_chosen, coverage, wait_until_ready
from app.config import AppSettings, load_settings, save_settings
from app.engine.reconcile import is_dtms_own
from app.engine.settings import AdoptionPolicy, AdoptionSettings
from app.errors import InvalidSettings

logger = logging.getLogger(__name__)

CHOICES = (
    (AdoptionPolicy.ALL, "All open positions, also those opened by hand or by other programs"),
    (AdoptionPolicy.NONE, "Only the positions trading bots register with DTMS (recommended)"),
    (AdoptionPolicy.MAGIC, "Positions with one of these magic numbers:"),
    (AdoptionPolicy.COMMENT_PREFIX, "Positions whose comment starts with:"),
)


def parse_magics(text: str) -> tuple[int, ...]:
    """``"1001, 1002"`` -> (1001, 1002); words that are not whole numbers are left out."""
    return tuple(int(part) for part in text.replace(";", ",").replace(" ", ",").split(",") if part.strip().isdigit())


class AdoptionDialog(QDialog):
    def __init__(self, positions: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Which positions may DTMS manage?")
        self._positions = positions
        self.buttons = QButtonGroup(self)
        self.counts: dict[AdoptionPolicy, QLabel] = {}
        self.radios: dict[AdoptionPolicy, QRadioButton] = {}
        self.magics = QLineEdit(placeholderText="e.g. 1001, 1002")
        self.prefix = QLineEdit(placeholderText="e.g. bot:")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self._intro()))
        grid = QGridLayout()
        for row, (policy, text) in enumerate(CHOICES):
            radio = QRadioButton(text)
            self.radios[policy] = radio
            self.buttons.addButton(radio, row)
            grid.addWidget(radio, row, 0)
            if policy is AdoptionPolicy.MAGIC:
                grid.addWidget(self.magics, row, 1)
            elif policy is AdoptionPolicy.COMMENT_PREFIX:
                grid.addWidget(self.prefix, row, 1)
            self.counts[policy] = QLabel()
            grid.addWidget(self.counts[policy], row, 2)
        layout.addLayout(grid)
        self.radios[AdoptionPolicy.NONE].setChecked(True)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save)
        box.accepted.connect(self.accept)
        layout.addWidget(box)
        self.magics.textChanged.connect(self._recount)
        self.prefix.textChanged.connect(self._recount)
        self._recount()

    def _intro(self) -> str:
        n = len(self._positions)
        now = (
            f"{n} open position{'s' if n != 1 else ''} in the terminal now {'are' if n != 1 else 'is'} not "
            "registered by any bot."
            if n
            else "Every position open in the terminal now is registered by a bot, or none is open."
        )
        return (
            f"{now}\nDTMS moves stops, closes parts and hedges the positions it manages: choose which ones it may "
            "take over on its own, now and as they open.\nBots can always register their trades; Settings can "
            "change this later."
        )

    def coverage(self) -> Coverage:
        return coverage(self._positions, parse_magics(self.magics.text()), self.prefix.text())

    def _recount(self) -> None:
        cover = self.coverage()
        for policy, count in (
            (AdoptionPolicy.ALL, cover.all),
            (AdoptionPolicy.NONE, cover.none),
            (AdoptionPolicy.MAGIC, cover.magic),
            (AdoptionPolicy.COMMENT_PREFIX, cover.comment_prefix),
        ):
            # with nothing to take over now, a count says nothing: the choice is about positions still to come
            self.counts[policy].setText(
                f"takes over {count} of {cover.open_positions} now" if cover.open_positions else ""
            )

    def choice(self) -> AdoptionSettings:
        policy = next((p for p, radio in self.radios.items() if radio.isChecked()), AdoptionPolicy.NONE)
        return AdoptionSettings(
            policy=policy, magics=parse_magics(self.magics.text()), comment_prefix=self.prefix.text().strip()
        )


async def ask_adoption_once(
    services: Any, config_path: Path, parent: QWidget | None = None, shown: list[AdoptionDialog] | None = None
) -> AdoptionSettings | None:
    """On a first start, once READY: ask, save the answer to the settings file and apply it. None when the file
    already states a choice. ``shown`` receives the dialog (tests answer it)."""
    if adoption_chosen(config_path):
        return None
    await wait_until_ready(services.engine)
    managed = {t.ticket for t in services.engine.trades()}
    positions = [p for p in await services.gateway.positions() if int(p.ticket) not in managed and not is_dtms_own(p)]
    dialog = AdoptionDialog(positions, parent)
    if shown is not None:
        shown.append(dialog)
    answered: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def answer(code: int) -> None:
        if not answered.done():
            answered.set_result(code)

    dialog.finished.connect(answer)
    dialog.open()
    try:
        code = await answered
    finally:
        dialog.deleteLater()
    chosen = dialog.choice() if code == QDialog.DialogCode.Accepted else AdoptionSettings()
    save_adoption(services, config_path, chosen)
    return chosen


def save_adoption(services: Any, config_path: Path, chosen: AdoptionSettings) -> AppSettings:
    """Write the choice into the settings file (keeping everything else in it) and apply it to the engine."""
    try:
        settings = load_settings(config_path)
    except InvalidSettings as error:
        logger.warning("settings file %s not readable (%s): the adoption choice is written over it", config_path, error)
        settings = services.settings
    settings = replace(settings, engine=replace(settings.engine, adoption=chosen))
    save_settings(config_path, settings)
    services.engine.update_settings(replace(services.engine.settings, adoption=chosen))
    logger.info("adoption policy chosen: %s (saved in %s)", chosen.policy.value, config_path)
    return settings
