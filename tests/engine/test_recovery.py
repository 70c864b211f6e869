"""Recovery and reconciliation: restart resumes every trade exactly; closed positions are archived from the
deal history; unknown positions are adopted by policy; outside changes are picked up and journaled; a
corrupt database is moved aside and rebuilt from the terminal."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from app.engine.model import ActionKind, DefensiveState, TradeSource
from app.engine.registry import Registration
from app.engine.settings import AdoptionPolicy, AdoptionSettings, EngineSettings

from .conftest import Recorded, managed, open_position, open_services, quote, set_price
from .test_protection import R, buy_with_sl


async def test_restart_resumes_every_trade_with_its_state(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    assert await services.engine.start()
    ticket, entry = await buy_with_sl(services, volume=0.4)
    await set_price(services, "EURUSD", round(entry + 1.5 * R, 5))
    await services.engine.step()
    trade = managed(services, ticket)
    trade.state = DefensiveState.WARNING_L2
    trade.warnings = 2
    trade.flat_timer_until = 1_800_000_000.0
    trade.hedge_ticket = 4242
    trade.closed_volume = 0.2
    trade.score = -4.5
    await services.repository.save_trade(trade)
    before = replace(trade)
    await services.close()

    again = await open_services(tmp_path)
    try:
        assert await again.engine.start()
        restored = again.engine.trade(ticket)
        assert restored == before
        assert restored.breakeven_triggered and restored.partial_taken
    finally:
        await again.close()


async def test_position_closed_at_its_stop_is_archived_with_the_deal(ready) -> None:
    ticket, entry = await buy_with_sl(ready)
    recorded = Recorded()
    ready.engine.subscribe(recorded)
    await set_price(ready, "EURUSD", round(entry - 1.2 * R, 5))  # through the SL: the server closes it
    await ready.engine.step()
    assert ready.engine.trade(ticket) is None
    archived = await ready.repository.load_trade(ticket)
    assert archived is not None and not archived.active and archived.state is DefensiveState.CLOSED
    assert archived.close_reason == "stop loss hit"
    # the price jumped through the stop: the server filled it at the market, as a real one does
    assert entry - 1.2 * R - 2e-5 <= archived.close_price <= entry - R + 2e-5
    assert archived.close_profit is not None and archived.close_profit < 0
    (closed,) = recorded.of("trade_closed")
    assert closed.payload["ticket"] == ticket and closed.seq is not None


async def test_outside_changes_are_picked_up_and_journaled(ready) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.5)
    new_sl = round(entry - 0.5 * R, 5)
    answer = await ready.gateway.call(
        "order_send", {"action": 6, "position": ticket, "symbol": "EURUSD", "sl": new_sl, "tp": 0.0}
    )
    assert answer.value.retcode == 10009
    await ready.engine.step()
    trade = ready.engine.trade(ticket)
    assert trade.sl == pytest.approx(new_sl)
    (record,) = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.EXTERNAL_CHANGE]
    assert "outside DTMS" in record.detail and "sl" in record.detail


@pytest.mark.parametrize(
    ("adoption", "adopted"),
    [
        (AdoptionSettings(policy=AdoptionPolicy.ALL), {"a", "b", "c"}),
        (AdoptionSettings(policy=AdoptionPolicy.NONE), set()),
        (AdoptionSettings(policy=AdoptionPolicy.MAGIC, magics=(11,)), {"a"}),
        (AdoptionSettings(policy=AdoptionPolicy.COMMENT_PREFIX, comment_prefix="bot:"), {"b"}),
    ],
)
async def test_adoption_policy(tmp_path: Path, adoption: AdoptionSettings, adopted: set[str]) -> None:
    services = await open_services(tmp_path, EngineSettings(adoption=adoption))
    try:
        assert await services.engine.start()
        tickets = {
            "a": await open_position(services, "EURUSD", "BUY", 0.1, magic=11),
            "b": await open_position(services, "GBPUSD", "SELL", 0.1, comment="bot:x"),
            "c": await open_position(services, "USDJPY", "BUY", 0.1),
        }
        await open_position(services, "EURUSD", "SELL", 0.05, comment="DTMS_HEDGE_1")
        await services.engine.step()
        managed = {t.ticket for t in services.engine.trades()}
        assert managed == {tickets[name] for name in adopted}
        assert all(t.source is TradeSource.ADOPTED for t in services.engine.trades())
    finally:
        await services.close()


async def test_corrupt_database_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    services = await open_services(tmp_path)
    assert await services.engine.start()
    ticket = await open_position(services, "EURUSD", "BUY", 0.2)
    await services.engine.register(Registration(ticket=ticket))
    await services.close()
    shutil.rmtree(tmp_path / "backups")  # no backup to restore: the positions are rebuilt from the terminal
    database = tmp_path / "dtms.sqlite3"
    database.write_bytes(b"this is not a database" * 100)

    again = await open_services(tmp_path)
    recorded = Recorded()
    again.engine.subscribe(recorded)
    try:
        assert await again.engine.start()
        moved = list(tmp_path.glob("dtms.sqlite3.corrupt-*"))
        assert moved, "the unreadable file is kept aside, never deleted"
        assert moved[0].read_bytes().startswith(b"this is not a database")
        (event,) = recorded.of("database_recovered")
        assert event.payload["rebuilt"] == 1
        trade = again.engine.trade(ticket)
        assert trade is not None and trade.source is TradeSource.REBUILT and trade.managed_by == "unconfirmed"
    finally:
        await again.close()


async def test_without_a_backup_a_rebuild_only_watches_even_under_adoption_all(tmp_path: Path) -> None:
    settings = EngineSettings(adoption=AdoptionSettings(policy=AdoptionPolicy.ALL))
    services = await open_services(tmp_path, settings)
    assert await services.engine.start()
    ticket = await open_position(services, "EURUSD", "BUY", 0.2)
    await services.engine.register(Registration(ticket=ticket, strategy_type="grid"))
    await services.close()
    shutil.rmtree(tmp_path / "backups")
    (tmp_path / "dtms.sqlite3").write_bytes(b"\x00garbage" * 512)

    again = await open_services(tmp_path, settings)
    try:
        assert await again.engine.start()
        trade = again.engine.trade(ticket)
        assert trade is not None and trade.managed_by == "unconfirmed"
        assert not again.engine.registry.can_modify(ticket), "watched, never changed"
        claimed = await again.engine.register(Registration(ticket=ticket))
        # the bot's first registration since the loss: not "already registered", and DTMS's from now on
        assert not claimed.already_registered and claimed.trade.managed_by == "DTMS"
    finally:
        await again.close()


async def test_a_hedge_is_closed_when_its_trade_ends_outside_dtms(ready) -> None:
    ticket, entry = await buy_with_sl(ready, volume=0.4)
    hedge = await open_position(ready, "EURUSD", "SELL", 0.2, comment=f"DTMS_HEDGE_{ticket}")
    trade = ready.engine.trade(ticket)
    trade.state = DefensiveState.HEDGED
    trade.hedge_ticket = hedge
    await ready.repository.save_trade(trade)
    bid, ask = await quote(ready, "EURUSD")
    closed = await ready.gateway.call(
        "order_send",
        {
            "action": 1,
            "position": ticket,
            "symbol": "EURUSD",
            "volume": 0.4,
            "type": 1,
            "price": bid,
            "deviation": 20,
            "type_filling": 1,
        },
    )
    assert closed.value.retcode == 10009  # the trader closes the trade by hand
    await ready.engine.step()
    assert await ready.gateway.positions(ticket=hedge) == (), "the hedge did not stay open unmanaged"
    archived = await ready.repository.load_trade(ticket)
    assert archived is not None and not archived.active and archived.hedge_ticket is None
    (record,) = [a for a in await ready.engine.journal(ticket) if a.kind is ActionKind.CLOSE_HEDGE]
    assert record.outcome.value == "SUCCESS" and record.request["position"] == hedge
