"""Notifications: which events notify, how serious, and how a burst becomes one grouped notice; the tray
falls back to the window's strip where the system has no tray."""

from __future__ import annotations

import asyncio

import pytest

from app.engine.events import EngineEvent, EventKind
from app.engine.model import LifecycleState
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.notifications import HISTORY_KEPT, Notice, NoticePolicy, Notifier, Severity, Throttle
from app.views.palette import LIFECYCLE_COLOURS, STATE_COLOURS
from app.views.tray import NotificationStrip, TrayController

from .conftest import register_buy


def tray_with_icon(bridge: EngineBridge, notifier: Notifier | None = None) -> TrayController:
    """A tray controller as on a desktop that has a system tray (offscreen has none)."""
    return TrayController(
        bridge,
        notifier or Notifier(bridge, interval_s=0.0),
        show_window=lambda: None,
        quit_program=lambda: None,
        strip=NotificationStrip(),
        tray_available=True,
    )


def event(event_kind: EventKind, **payload) -> EngineEvent:
    return EngineEvent(kind=event_kind, payload=payload)


def test_policy_picks_the_events_worth_a_notice() -> None:
    policy = NoticePolicy()
    assert policy.notice_for(event(EventKind.TRADE_UPDATED, rows=[])) is None
    be = policy.notice_for(event(EventKind.ACTION, ticket=7, symbol="EURUSD", kind="BREAKEVEN", outcome="SUCCESS"))
    assert be.title == "#7 EURUSD: SL moved to breakeven" and be.ticket == 7 and be.severity is Severity.INFO
    failed = policy.notice_for(event(EventKind.ACTION, ticket=7, kind="PARTIAL_TAKE", outcome="FAILED", retcode=10019))
    assert failed.severity is Severity.ACTION_FAILED and "10019: not enough money" in failed.message
    assert (
        policy.notice_for(event(EventKind.ACTION, ticket=7, kind="TIGHTEN", outcome="SUCCESS", transition=True)) is None
    ), "told with its transition"
    assert policy.notice_for(event(EventKind.STATE_CHANGED, ticket=7, to="WARNING_L1")).severity is Severity.WARNING
    assert policy.notice_for(event(EventKind.STATE_CHANGED, ticket=7, to="WARNING_L2")).severity is Severity.WARNING
    assert policy.notice_for(event(EventKind.STATE_CHANGED, ticket=7, to="HEDGED")).severity is Severity.WARNING
    assert policy.notice_for(event(EventKind.LIFECYCLE, state="READY")) is None
    lost = policy.notice_for(event(EventKind.LIFECYCLE, state="DISCONNECTED", reason="IPC timeout"))
    assert lost.title == "Terminal lost"
    assert policy.notice_for(event(EventKind.LIFECYCLE, state="DISCONNECTED")) is None, "announced once"
    assert policy.notice_for(event(EventKind.LIFECYCLE, state="READY", epoch=2)).title == "Terminal back"
    assert policy.notice_for(event(EventKind.LIFECYCLE, state="FAILED", reason="x")).title == "Initialisation failed"


def test_throttle_shows_one_then_groups_the_burst() -> None:
    throttle = Throttle(interval_s=5.0)
    notices = [
        Notice(title=f"n{i}", message="", severity=Severity.CRITICAL if i == 3 else Severity.INFO) for i in range(6)
    ]
    assert throttle.offer(notices[0], now=100.0) is notices[0]
    assert all(throttle.offer(n, now=101.0) is None for n in notices[1:])
    assert throttle.flush(now=104.9) is None
    grouped = throttle.flush(now=105.0)
    assert grouped.title == "n3 and 4 more events" and grouped.grouped == 5 and grouped.severity is Severity.CRITICAL
    assert [line.split(":")[0] for line in grouped.message.splitlines()] == ["n3", "n1", "n2", "n4", "n5"]
    assert throttle.flush(now=200.0) is None
    assert throttle.offer(notices[1], now=200.0) is notices[1]
    assert throttle.offer(notices[2], now=201.0) is None and throttle.offer(notices[4], now=202.0) is None
    assert throttle.flush(now=205.0).title == "n2 and 1 more event"


@pytest.mark.qasync
async def test_a_burst_of_registrations_gives_two_notices(ready: Services, bridge: EngineBridge) -> None:
    notifier = Notifier(bridge, interval_s=0.2)
    shown: list[Notice] = []
    notifier.shown.connect(shown.append)
    for _ in range(6):
        await register_buy(ready)
    assert len(shown) == 1 and shown[0].title.endswith("now protected")
    for _ in range(100):
        if len(shown) == 2:
            break
        await asyncio.sleep(0.02)
    assert shown[1].title.endswith("now protected and 4 more events") and shown[1].grouped == 5
    registered = [t.ticket for t in ready.engine.trades()][1:]
    assert list(shown[1].tickets) == registered, "a grouped notice names every trade"
    assert all(f"#{ticket} EURUSD BUY" in shown[1].message for ticket in registered)


@pytest.mark.qasync
async def test_without_a_tray_notices_go_to_the_strip(ready: Services, bridge: EngineBridge) -> None:
    notifier = Notifier(bridge, interval_s=0.0)
    strip = NotificationStrip()
    calls: list[str] = []
    tray = TrayController(
        bridge,
        notifier,
        show_window=lambda: calls.append("show"),
        quit_program=lambda: calls.append("quit"),
        strip=strip,
    )
    assert not tray.has_tray, "offscreen has no system tray"
    await register_buy(ready)
    assert strip.isVisibleTo(None) and "now protected" in strip.label.text()
    assert tray.colour() == STATE_COLOURS["HEALTHY"]
    assert "1 managed trades" in tray.tooltip() and "HEALTHY: 1" in tray.tooltip()
    tray.pause_action.trigger()
    assert ready.engine.paused and "management paused" in tray.tooltip()
    ready.engine.pause(False)
    assert not tray.pause_action.isChecked()
    tray.quit_action.trigger()
    tray.show_action.trigger()
    assert calls == ["quit", "show"]


@pytest.mark.qasync
async def test_tray_icon_follows_the_lifecycle(services: Services, bridge: EngineBridge) -> None:
    notifier = Notifier(bridge, interval_s=0.0)
    tray = tray_with_icon(bridge, notifier)
    assert tray.has_tray and tray.colour() == LIFECYCLE_COLOURS[LifecycleState.STARTING]
    await services.gateway.start()
    await services.gateway.control("inject_fault", kind="disconnect", failing_initializes=3)
    assert not await services.engine.start()
    assert tray.colour() == LIFECYCLE_COLOURS[LifecycleState.FAILED]
    assert tray.tray.toolTip().startswith("DTMS Desk - FAILED")
    assert notifier.history[-1].title == "Initialisation failed"
    tray.hide()


@pytest.mark.qasync
async def test_a_burst_of_trade_events_redraws_the_tray_once(ready: Services, bridge: EngineBridge) -> None:
    """Colour and tooltip read every trade: a mass close of 1,000 trades must not read them 1,000 times."""
    from collections import Counter

    from app.engine.model import DefensiveState
    from app.views.tray import StatusSummary

    from .conftest import until

    class Counting(StatusSummary):
        reads = 0

        def states(self) -> Counter[DefensiveState]:
            Counting.reads += 1
            return super().states()

    tray = tray_with_icon(bridge)
    ticket = await register_buy(ready)
    await until(lambda: "1 managed trades" in tray.tray.toolTip())
    tray._summary = Counting(ready.engine)
    for _ in range(50):
        bridge.state_changed.emit({"ticket": ticket})
    assert Counting.reads == 0
    await until(lambda: Counting.reads > 0)
    assert Counting.reads == 1
    tray.hide()


def test_the_strip_shows_a_few_lines_of_a_large_grouped_notice(qapp) -> None:
    from app.alerts.notices import group
    from app.views.tray import STRIP_LINES

    strip = NotificationStrip()
    held = [Notice(title=f"#{t} EURUSD SELL", message="closed", ticket=t) for t in range(1000)]
    strip.show_notice(group(held))
    text = strip.label.text()
    assert text.count("<br>") == STRIP_LINES - 1, "a mass close does not cover the window"
    assert "#0 EURUSD SELL: closed" in text and "and 995 more (the Event log tab lists them all)" in text
    strip.show_notice(group(held[:3]))
    assert strip.label.text().count("<br>") == 2 and "more (the" not in strip.label.text()


@pytest.mark.qasync
async def test_the_tray_icon_is_drawn_once_per_colour_and_set_when_the_colour_changes(
    ready: Services, bridge: EngineBridge
) -> None:
    from app.engine.model import DefensiveState

    tray = tray_with_icon(bridge)
    ticket = await register_buy(ready)
    tray.refresh()
    healthy = tray.icon

    def disc(icon) -> str:
        return icon.pixmap(64).toImage().pixelColor(8, 32).name()

    assert disc(healthy) == STATE_COLOURS["HEALTHY"].lower() and tray.tray.icon().cacheKey() == healthy.cacheKey()
    tray.refresh()
    assert tray.icon is healthy, "the same colour: not drawn again"
    ready.engine.trade(ticket).state = DefensiveState.WARNING_L2
    tray.refresh()
    assert disc(tray.icon) == STATE_COLOURS["WARNING_L2"].lower()
    assert tray.tray.icon().cacheKey() == tray.icon.cacheKey() and "WARNING_L2: 1" in tray.tray.toolTip()
    ready.engine.trade(ticket).state = DefensiveState.HEALTHY
    tray.refresh()
    assert tray.icon is healthy and tray.tray.icon().cacheKey() == healthy.cacheKey(), "drawn once per colour"
    tray.hide()


@pytest.mark.qasync
async def test_the_tray_counts_states_from_the_trades_events_name(
    ready: Services, bridge: EngineBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 10,000 trades a count over every trade cost a millisecond a cycle: after the first count only the trades
    an event named are read again, and a count that stops adding up to the trades managed is taken whole."""
    from app.engine.model import DefensiveState

    from .conftest import until

    tray = tray_with_icon(bridge)
    tickets = [await register_buy(ready) for _ in range(3)]
    await until(lambda: "3 managed trades" in tray.tray.toolTip())
    engine = ready.engine
    reads: list[str] = []
    every = engine.trades

    def counted() -> list:
        reads.append("all")
        return every()

    monkeypatch.setattr(engine, "trades", counted)

    engine.trade(tickets[1]).state = DefensiveState.WARNING_L2  # as a committed transition leaves it
    bridge.state_changed.emit({"ticket": tickets[1], "to": "WARNING_L2"})
    await until(lambda: "WARNING_L2: 1" in tray.tray.toolTip())
    assert "HEALTHY: 2" in tray.tray.toolTip() and tray.colour() == STATE_COLOURS["WARNING_L2"]
    assert reads == [], "only the named trade was read"

    await ready.engine.unregister(tickets[1])
    await until(lambda: "2 managed trades" in tray.tray.toolTip())
    assert "WARNING_L2" not in tray.tray.toolTip() and tray.colour() == STATE_COLOURS["HEALTHY"] and reads == []

    engine.registry.forget(tickets[0])  # a trade gone without an event: the count no longer adds up
    bridge.state_changed.emit({"ticket": tickets[2], "to": "HEALTHY"})
    await until(lambda: "1 managed trades" in tray.tray.toolTip())
    assert reads == ["all"], "counted whole again"
    tray.hide()


def test_the_notices_kept_are_the_latest_few_however_long_the_desk_runs(bridge: EngineBridge) -> None:
    notifier = Notifier(bridge, interval_s=0.0)
    for ticket in range(HISTORY_KEPT + 50):
        notifier.on_event(event(EventKind.TRADE_REGISTERED, ticket=ticket, symbol="EURUSD", direction="BUY"))
    assert len(notifier.history) == HISTORY_KEPT
    assert notifier.history[-1].ticket == HISTORY_KEPT + 49 and notifier.history[0].ticket == 50
