"""The first-run question: which open positions DTMS may take over, asked once and kept in the settings file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QApplication, QDialog

from app.adoption import adoption_chosen, coverage, describe_policy
from app.config import load_settings
from app.engine.settings import AdoptionPolicy, AdoptionSettings, EngineSettings
from app.runtime import Services
from app.views.adoption_dialog import AdoptionDialog, ask_adoption_once, parse_magics
from tests.engine.conftest import open_position


def position(ticket: int, magic: int = 0, comment: str = "") -> SimpleNamespace:
    return SimpleNamespace(ticket=ticket, magic=magic, comment=comment)


POSITIONS = [position(1, 11), position(2, 22, "bot:a"), position(3, comment="bot:b"), position(4)]


def test_the_default_takes_over_no_position_and_says_so() -> None:
    assert EngineSettings().adoption.policy is AdoptionPolicy.NONE
    assert describe_policy(AdoptionSettings()).startswith("none: only the positions bots register")


def test_each_choice_shows_how_many_open_positions_it_covers(qapp: object) -> None:
    assert coverage(POSITIONS, (11, 22), "bot:") == coverage(POSITIONS, (11, 22), "bot:")
    cover = coverage(POSITIONS, (11,), "bot:")
    assert (cover.open_positions, cover.all, cover.none, cover.magic, cover.comment_prefix) == (4, 4, 0, 1, 2)
    dialog = AdoptionDialog(POSITIONS)
    assert dialog.radios[AdoptionPolicy.NONE].isChecked(), "the safe choice is preselected"
    assert "4 open positions" in dialog.findChildren(type(dialog.counts[AdoptionPolicy.ALL]))[0].text()
    assert dialog.counts[AdoptionPolicy.ALL].text() == "takes over 4 of 4 now"
    assert dialog.counts[AdoptionPolicy.NONE].text() == "takes over 0 of 4 now"
    dialog.magics.setText("11, 22")
    assert dialog.counts[AdoptionPolicy.MAGIC].text() == "takes over 2 of 4 now"
    dialog.prefix.setText("bot:")
    assert dialog.counts[AdoptionPolicy.COMMENT_PREFIX].text() == "takes over 2 of 4 now"
    dialog.radios[AdoptionPolicy.MAGIC].setChecked(True)
    assert dialog.choice() == AdoptionSettings(policy=AdoptionPolicy.MAGIC, magics=(11, 22), comment_prefix="bot:")
    assert parse_magics("7; 8 nine 10") == (7, 8, 10)


@pytest.mark.qasync
async def test_asked_once_saved_and_applied(qapp: QApplication, ready: Services, tmp_path: Path) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # as the program runs it: closing the dialog must not end the loop
    config = tmp_path / "dtms.toml"
    config.write_text("[api]\nport = 8123\n", encoding="utf-8")
    by_hand = await open_position(ready, "EURUSD", "BUY", 0.1)
    by_bot = await open_position(ready, "GBPUSD", "SELL", 0.1, magic=11)
    assert not adoption_chosen(config)
    shown: list[AdoptionDialog] = []
    asking = asyncio.ensure_future(ask_adoption_once(ready, config, shown=shown))
    while not shown:
        await asyncio.sleep(0.01)
    dialog = shown[0]
    assert dialog.counts[AdoptionPolicy.ALL].text() == "takes over 2 of 2 now"
    dialog.radios[AdoptionPolicy.MAGIC].setChecked(True)
    dialog.magics.setText("11")
    dialog.accept()
    chosen = await asyncio.wait_for(asking, 5)
    assert chosen == AdoptionSettings(policy=AdoptionPolicy.MAGIC, magics=(11,))
    saved = load_settings(config)
    assert saved.engine.adoption == chosen and saved.api.port == 8123, "the rest of the file is kept"
    assert adoption_chosen(config)
    assert ready.engine.settings.adoption == chosen, "applied to the running engine at once"
    await ready.engine.step()
    assert ready.engine.trade(by_bot) is not None and ready.engine.trade(by_hand) is None
    assert await ask_adoption_once(ready, config) is None, "asked only once"


@pytest.mark.qasync
async def test_closing_the_question_keeps_the_safe_choice(qapp: QApplication, ready: Services, tmp_path: Path) -> None:
    qapp.setQuitOnLastWindowClosed(False)
    config = tmp_path / "dtms.toml"
    by_hand = await open_position(ready, "EURUSD", "BUY", 0.1)
    shown: list[AdoptionDialog] = []
    asking = asyncio.ensure_future(ask_adoption_once(ready, config, shown=shown))
    while not shown:
        await asyncio.sleep(0.01)
    shown[0].done(QDialog.DialogCode.Rejected)
    assert await asyncio.wait_for(asking, 5) == AdoptionSettings()
    assert adoption_chosen(config) and load_settings(config).engine.adoption.policy is AdoptionPolicy.NONE
    await ready.engine.step()
    assert ready.engine.trade(by_hand) is None


def test_with_no_position_to_take_over_the_question_is_about_those_to_come(qapp: object) -> None:
    dialog = AdoptionDialog([])
    intro = dialog.findChildren(type(dialog.counts[AdoptionPolicy.ALL]))[0].text()
    assert intro.startswith("Every position open in the terminal now is registered by a bot, or none is open.")
    assert "now and as they open" in intro
    assert all(label.text() == "" for label in dialog.counts.values()), "no '0 of 0' beside each choice"
