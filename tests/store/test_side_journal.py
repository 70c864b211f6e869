"""The side journal holds what the newest backup lacks: decisions and ownership committed since it (so a restore
after damage loses none of them), and what a degraded run could not store (replayed once, never twice)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Trade
from app.store import Repository

MakeTrade = Callable[..., Trade]


@contextmanager
def unwritable(repository: Repository) -> Iterator[None]:
    """The side journal as a file that cannot be opened (as one locked by another program)."""
    repository.side.path.unlink(missing_ok=True)
    repository.side.path.mkdir()
    try:
        yield
    finally:
        repository.side.path.rmdir()


async def damaged_and_reopened(repository: Repository, db_path: Path) -> Repository:
    """Close ``repository``, damage its file and open it again: restored from the newest backup."""
    await repository.close()
    db_path.write_bytes(b"\x00garbage" * 512)
    restored = await Repository.open(db_path)
    assert restored.restored_from is not None
    return restored


def journal_reports(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if "side journal" in r.getMessage() and r.levelname == "ERROR")


def partial(ticket: int, detail: str) -> ActionRecord:
    return ActionRecord(
        ticket=ticket,
        kind=ActionKind.PARTIAL_TAKE,
        request={"volume": 0.05},
        outcome=ActionOutcome.SUCCESS,
        retcode=10009,
        detail=detail,
    )


async def test_a_decision_after_the_newest_backup_survives_damage(db_path: Path, make_trade: MakeTrade) -> None:
    repository = await Repository.open(db_path)
    await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
    assert await repository.backup() is not None
    await repository.commit_records(make_trade(7, volume=0.05, partial_taken=True), actions=[partial(7, "half")])
    restored = await damaged_and_reopened(repository, db_path)
    try:
        trade = await restored.load_trade(7)
        assert trade is not None and trade.partial_taken and trade.volume == 0.05
        assert [a.detail for a in await restored.actions(7)] == ["half"]
    finally:
        await restored.close()


async def test_after_a_degraded_run_only_what_it_could_not_store_is_written_in(
    db_path: Path, make_trade: MakeTrade
) -> None:
    repository = await Repository.open(db_path)
    await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
    await repository.commit_records(make_trade(7), actions=[partial(7, "stored")])
    repository.aside_degraded("disk full")
    repository.aside_records(make_trade(7, volume=0.05, partial_taken=True), [partial(7, "aside")], [])
    await repository.close()

    again = await Repository.open(db_path)
    try:
        assert again.recovered_from is None and again.replayed == 2  # the trade row and its action
        assert sorted(a.detail for a in await again.actions(7)) == ["aside", "stored"]  # each once
        trade = await again.load_trade(7)
        assert trade is not None and trade.partial_taken
        assert not again.side  # a backup was taken, which holds it all
    finally:
        await again.close()


async def test_a_restart_after_a_crash_keeps_the_side_journal_for_a_later_restore(
    db_path: Path, make_trade: MakeTrade
) -> None:
    repository = await Repository.open(db_path)
    await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
    assert await repository.backup() is not None
    await repository.commit_records(make_trade(7, volume=0.05, partial_taken=True), actions=[partial(7, "half")])
    await repository.close()  # killed: no backup at the stop

    restarted = await Repository.open(db_path)
    assert restarted.started_backup is None and restarted.replayed == 0
    assert restarted.side, "the decision since the newest backup must stay aside"
    restored = await damaged_and_reopened(restarted, db_path)
    try:
        trade = await restored.load_trade(7)
        assert trade is not None and trade.partial_taken
        assert [a.detail for a in await restored.actions(7)] == ["half"]
        assert restored.started_backup is not None and not restored.side
    finally:
        await restored.close()


async def test_a_side_journal_that_cannot_be_written_does_not_undo_a_committed_decision(
    db_path: Path, make_trade: MakeTrade, caplog: pytest.LogCaptureFixture
) -> None:
    repository = await Repository.open(db_path)
    try:
        await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
        assert await repository.backup() is not None
        with unwritable(repository):
            for volume in (0.05, 0.04):
                trade = make_trade(7, volume=volume, partial_taken=True)
                await repository.commit_records(trade, actions=[partial(7, "x")])
            stored = await repository.load_trade(7)
            assert stored is not None and stored.volume == 0.04 and len(await repository.actions(7)) == 2
            assert journal_reports(caplog) == 1, "reported once while it lasts"
    finally:
        await repository.close()


async def test_a_side_journal_that_cannot_be_written_does_not_fail_a_committed_registration(
    db_path: Path, make_trade: MakeTrade, caplog: pytest.LogCaptureFixture
) -> None:
    """A bot told "error" for a registration that is stored would register again or give up on a protected
    trade: ownership stands once committed, as a decision does."""
    repository = await Repository.open(db_path)
    try:
        with unwritable(repository):
            inserted, event = await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
            assert inserted and event.seq is not None
            released = make_trade(7, managed_by="bot")
            stored = await repository.save_trade_with_event(released, "trade_released", {"ticket": 7}, 1.0)
            assert stored.seq is not None and stored.seq > event.seq
            trade = await repository.load_trade(7)
            assert trade is not None and trade.managed_by == "bot"
            assert journal_reports(caplog) == 1, "reported once while it lasts"
    finally:
        await repository.close()


async def test_after_the_whole_row_a_decision_s_copy_holds_only_the_columns_it_changed(
    db_path: Path, make_trade: MakeTrade
) -> None:
    explained = "momentum weak; " * 40  # kept by the restored row, never copied again
    repository = await Repository.open(db_path)
    await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
    assert await repository.backup() is not None
    marked = make_trade(7, score_explanation=explained, pending_action="DEFENSE {}")
    await repository.commit_records(marked, changed=frozenset({"pending_action"}))  # its first since the backup
    taken = make_trade(7, score_explanation=explained, volume=0.05, partial_taken=True)
    await repository.commit_records(
        taken, actions=[partial(7, "half")], changed=frozenset({"volume", "partial_taken", "pending_action"})
    )
    kinds = [kind.value for kind, _ in repository.side.records()]
    assert kinds == ["trade", "change", "action"]
    lines = repository.side.path.read_text().splitlines()
    assert explained in lines[0] and explained not in lines[1] and len(lines[1]) < 120
    assert json.loads(lines[1]) == {
        "k": "change",
        "ticket": 7,
        "set": {"volume": 0.05, "pending_action": None, "partial_taken": True},
    }
    restored = await damaged_and_reopened(repository, db_path)
    try:
        trade = await restored.load_trade(7)
        assert trade is not None and (trade.volume, trade.partial_taken, trade.pending_action) == (0.05, True, None)
        assert trade.score_explanation == explained
        assert [a.detail for a in await restored.actions(7)] == ["half"]
    finally:
        await restored.close()


async def test_each_backup_starts_the_side_journal_again_with_a_whole_row(db_path: Path, make_trade: MakeTrade) -> None:
    repository = await Repository.open(db_path)
    try:
        await repository.register_trade(make_trade(7), "trade_registered", {"ticket": 7}, 0.0)
        for volume in (0.08, 0.06):
            await repository.commit_records(make_trade(7, volume=volume), changed=frozenset({"volume"}))
        # the registration's copy is the whole row: the decisions after it copy what they changed
        assert [kind.value for kind, _ in repository.side.records()] == ["trade", "change", "change"]
        assert await repository.backup() is not None
        await repository.commit_records(make_trade(7, volume=0.04), changed=frozenset({"volume"}))
        assert [kind.value for kind, _ in repository.side.records()] == ["trade"]
        await repository.commit_records(make_trade(7, volume=0.04))  # what changed not known: the whole row
        assert [kind.value for kind, _ in repository.side.records()] == ["trade", "trade"]
    finally:
        await repository.close()


async def test_a_whole_row_written_before_an_upgrade_added_fields_is_restored(
    db_path: Path, make_trade: MakeTrade
) -> None:
    """The side journal outlives an upgrade: a row copied by a version that knew fewer trade fields is restored
    with the defaults of the fields added since (they are added last)."""
    repository = await Repository.open(db_path)
    assert await repository.backup() is not None
    await repository.register_trade(make_trade(7, r_basis="1.5 x ATR (M15)"), "trade_registered", {"ticket": 7}, 0.0)
    lines = repository.side.path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    (whole,) = [r for r in records if r["k"] == "trade"]
    assert whole["values"][-1] == "1.5 x ATR (M15)"
    whole["values"] = whole["values"][:-1]  # as the version before r_basis wrote it
    repository.side.path.write_text("".join(json.dumps(r) + "\n" for r in records))
    restored = await damaged_and_reopened(repository, db_path)
    try:
        trade = await restored.load_trade(7)
        assert trade is not None and trade.r_basis == "" and trade.volume == make_trade(7).volume
    finally:
        await restored.close()
