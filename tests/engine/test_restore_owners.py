"""Owners survive a damaged database: the newest good backup is restored and the side journal replayed, so a
bot's trades stay the bot's and a released ticket stays released; only positions never seen follow the
adoption policy. Without any backup nothing is DTMS's until a bot registers it or the trader confirms it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.desk_lock import release
from app.engine.model import ActionKind, ActionOutcome, TradeSource
from app.engine.registry import Registration
from app.engine.settings import AdoptionPolicy, AdoptionSettings
from app.runtime import Services

from .conftest import Recorded, engine_settings, open_position, open_services, quote, set_price


async def stop_without_backup(services: Services) -> None:
    """As a killed desk leaves it: no backup at the stop."""
    await services.engine.stop()
    await services.gateway.close()
    await services.repository.close()
    if services.lock is not None:
        release(services.lock)


async def test_damage_at_start_keeps_strategy_owners_and_released_tickets(tmp_path: Path) -> None:
    # adoption policy "all": a position no database ever saw is taken over, the others keep their owners
    services = await open_services(tmp_path, engine_settings(adoption=AdoptionSettings(policy=AdoptionPolicy.ALL)))
    assert await services.engine.start()
    grid = await open_position(services, "EURUSD", "BUY", 0.1)
    released = await open_position(services, "EURUSD", "BUY", 0.1)
    ours = await open_position(services, "EURUSD", "SELL", 0.1)
    await services.engine.register(Registration(ticket=grid, strategy_type="grid"))
    await services.engine.register(Registration(ticket=released))
    await services.engine.unregister(released)
    await services.engine.register(Registration(ticket=ours))
    assert await services.engine.backup_database()
    # after the newest backup: only the side journal knows these
    scalper = await open_position(services, "EURUSD", "SELL", 0.1)
    await services.engine.register(Registration(ticket=scalper, strategy_type="scalper"))
    late_release = await open_position(services, "EURUSD", "BUY", 0.1)
    await services.engine.register(Registration(ticket=late_release))
    await services.engine.unregister(late_release)
    unseen = await open_position(services, "EURUSD", "BUY", 0.1)  # no cycle ran: DTMS never saw it
    await stop_without_backup(services)
    (tmp_path / "dtms.sqlite3").write_bytes(b"\x00garbage" * 512)

    again = await open_services(tmp_path, engine_settings(adoption=AdoptionSettings(policy=AdoptionPolicy.ALL)))
    recorded = Recorded()
    again.engine.subscribe(recorded)
    try:
        assert await again.engine.start()
        assert again.repository.restored_from is not None and again.repository.replayed >= 3
        owners = {t.ticket: t.managed_by for t in again.engine.trades()}
        assert owners[grid] == "grid" and owners[scalper] == "scalper" and owners[ours] == "DTMS"
        assert released not in owners and late_release not in owners, "a released ticket was taken over"
        assert not again.engine.registry.can_modify(grid) and not again.engine.registry.can_modify(scalper)
        assert owners[unseen] == "DTMS" and again.engine.trade(unseen).source is TradeSource.ADOPTED
        (event,) = recorded.of("database_recovered")
        assert event.payload["restored_from"] and event.payload["rebuilt"] == 0
    finally:
        await again.close()


async def test_without_a_backup_positions_are_unconfirmed_until_confirmed(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    assert await services.engine.start()
    tickets = [await open_position(services, "EURUSD", "BUY", 0.1) for _ in range(3)]
    for ticket in tickets:
        await services.engine.register(Registration(ticket=ticket, strategy_type="grid"))
    await services.close()
    shutil.rmtree(tmp_path / "backups")
    (tmp_path / "dtms.sqlite3").write_bytes(b"\x00garbage" * 512)

    again = await open_services(tmp_path)
    recorded = Recorded()
    again.engine.subscribe(recorded)
    try:
        assert await again.engine.start()
        assert again.engine.registry.unconfirmed() == sorted(tickets)
        assert not any(again.engine.registry.can_modify(t) for t in tickets), "watched only"
        (event,) = recorded.of("database_recovered")
        assert event.payload["unconfirmed"] == sorted(tickets)
        confirmed = await again.engine.confirm(tickets[0])
        assert confirmed.managed_by == "DTMS" and again.engine.registry.can_modify(tickets[0])
        assert await again.engine.confirm_all() == sorted(tickets[1:])
        assert again.engine.registry.unconfirmed() == []
        stored = await again.repository.load_trade(tickets[1])
        assert stored is not None and stored.managed_by == "DTMS", "the confirmation was not stored"
        assert len([e for e in recorded.of("trade_changed") if e.payload.get("managed_by") == "DTMS"]) == 3
    finally:
        await again.close()


async def test_a_partial_taken_after_the_newest_backup_is_not_taken_again(tmp_path: Path) -> None:
    r = 0.0020
    services = await open_services(tmp_path)
    assert await services.engine.start()
    bid, ask = await quote(services, "EURUSD")
    await set_price(services, "EURUSD", bid, ask)
    ticket = await open_position(services, "EURUSD", "BUY", 0.4, sl=round(ask - r, 5))
    await services.engine.register(Registration(ticket=ticket))
    assert await services.engine.backup_database()
    await set_price(services, "EURUSD", round(ask + 1.6 * r, 5))  # past 1.5 R: half is closed
    await services.engine.step()
    assert services.engine.trade(ticket).partial_taken
    await stop_without_backup(services)
    (tmp_path / "dtms.sqlite3").write_bytes(b"\x00garbage" * 512)

    again = await open_services(tmp_path)
    try:
        assert await again.engine.start()
        assert again.repository.restored_from is not None
        trade = again.engine.trade(ticket)
        assert trade.partial_taken and trade.volume == pytest.approx(0.2)
        await again.engine.step()
        await again.engine.step()
        (position,) = await again.gateway.positions(ticket=ticket)
        assert position.volume == pytest.approx(0.2), "a second partial was taken after the restore"
        partials = [a for a in await again.engine.journal(ticket) if a.kind is ActionKind.PARTIAL_TAKE]
        assert [a.outcome for a in partials] == [ActionOutcome.SUCCESS]
    finally:
        await again.close()
