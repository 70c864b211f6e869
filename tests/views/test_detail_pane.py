"""The detail pane: a placeholder when nothing is selected, it stays on (and says so) when its trade closes,
agrees with the highlighted row after a visit to Closed today, refreshes its header at every cycle and its
chart at every new bar (a view the trader zoomed to stays), states R in pips on a currency pair and in price
elsewhere (and where a synthetic R came from), and its one-click actions reach the simulator's positions and the
journal after a confirmation showing the request."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QTextDocumentFragment, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.engine.model import ActionKind, ActionOutcome
from app.engine.registry import Registration
from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from tests.engine.conftest import open_position, set_price

from .conftest import register_buy, until

R = 0.0020


class Answers:
    """The confirmations and notes the window asked, with scripted answers (Yes unless told)."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.told: list[str] = []

    def confirm(self, _parent, text: str) -> bool:
        self.asked.append(text)
        return self.answers.pop(0) if self.answers else True

    def inform(self, _parent, text: str) -> None:
        self.told.append(text)


def window(services: Services, bridge: EngineBridge, answers: Answers) -> MainWindow:
    w = MainWindow(
        bridge,
        quit_program=lambda: None,
        simulated=True,
        terminal="simulator",
        database=services.data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=services.data_dir / "dtms.toml",
        confirm=answers.confirm,
        notify_interval_s=0.0,
    )
    w.detail.trade_actions.notify = answers.inform
    w.detail.trade_actions.ask_volume = lambda _parent, current, _minimum, _step: round(current * 0.4, 2)
    return w


def plain(html: str) -> str:
    """A label's rich text as the trader reads it, each run of spaces (non-breaking ones too) as one."""
    return " ".join(QTextDocumentFragment.fromHtml(html).toPlainText().split())


def selected_tickets(w: MainWindow) -> list[int]:
    rows = {i.row() for i in w.trades_view.selectionModel().selectedRows()}
    return [w.trades.ticket_at(r) for r in rows]


@pytest.mark.qasync
async def test_placeholder_until_a_trade_is_selected(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, Answers())
    await w.load()
    assert w.detail.showing_placeholder and "Select a trade" in w.detail.placeholder.text()
    ticket = await register_buy(ready)
    await ready.engine.step()
    w.select_ticket(ticket)
    await until(lambda: not w.detail.showing_placeholder)
    w.trades_view.clearSelection()
    assert w.detail.showing_placeholder and w.detail.ticket is None


@pytest.mark.qasync
async def test_pane_stays_on_a_closing_trade_and_follows_closed_today(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, Answers())
    await w.load()
    w.show()
    first = await register_buy(ready)
    second = await register_buy(ready)
    await ready.engine.step()
    w.select_ticket(first)
    await until(lambda: w.detail.trade is not None and w.detail.trade.ticket == first)
    assert (await ready.engine.close_trade(first)).ok
    await ready.engine.step()  # archived: its row leaves the table
    await until(lambda: w.detail.closed_note.isVisibleTo(w))
    assert w.detail.ticket == first and "closed" in w.detail.closed_note.text()
    assert second not in selected_tickets(w), "the selection did not move to another trade"
    assert f"#{first} " in w.detail.title.text()
    # Closed today: the pane shows the row highlighted there; back on the managed tab, the one highlighted there
    w.select_ticket(second)
    await until(lambda: w.detail.ticket == second and w.detail.trade is not None)
    w.table_tabs.setCurrentIndex(1)
    w.closed_view.selectRow(w.closed.tickets().index(first))
    await until(lambda: w.detail.ticket == first)
    w.table_tabs.setCurrentIndex(0)
    await until(lambda: w.detail.ticket == second)
    assert selected_tickets(w) == [second]
    w.trades_view.clearSelection()
    w.table_tabs.setCurrentIndex(1)
    w.closed_view.selectRow(w.closed.tickets().index(first))
    await until(lambda: w.detail.ticket == first)
    w.table_tabs.setCurrentIndex(0)  # nothing highlighted here: the pane does not keep the closed trade
    assert w.detail.showing_placeholder and w.detail.ticket is None


@pytest.mark.qasync
async def test_header_follows_each_cycle(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, Answers())
    await w.load()
    ticket = await register_buy(ready)
    await ready.engine.step()
    w.select_ticket(ticket)
    await until(lambda: w.detail.trade is not None)
    entry = ready.engine.trade(ticket).entry
    await set_price(ready, "EURUSD", round(entry + 0.5 * R, 5))
    await ready.engine.step()
    figures = plain(w.detail.figures.text())
    assert "(+0.50 R)" in figures or "(+0.49 R)" in figures
    assert "1 R = 20.0 pips" in figures
    assert "score&nbsp;<b>" in w.detail.title.text() and "owner&nbsp;" in w.detail.title.text(), "never wrapped apart"
    assert "+0.50&nbsp;R" in w.detail.figures.text() or "+0.49&nbsp;R" in w.detail.figures.text()  # never wraps
    bid = ready.engine.market.get("EURUSD").bid
    assert w.detail.chart.bid_line == pytest.approx(bid)


async def shown_trade_chart(ready: Services, bridge: EngineBridge) -> tuple[MainWindow, int]:
    w = window(ready, bridge, Answers())
    await w.load()
    ticket = await register_buy(ready)
    await ready.engine.step()
    w.select_ticket(ticket)
    await until(lambda: w.detail.trade is not None and w.detail.chart.candles is not None)
    return w, ticket


async def next_bar(ready: Services) -> None:
    """The simulator's clock past the next M5 bar close, and a cycle that fetches the new bars."""
    now = ready.engine.clock.now()
    await ready.gateway.control("advance", seconds=300.0 - now % 300.0 + 1.0)
    await ready.engine.step()


@pytest.mark.qasync
async def test_chart_draws_each_new_bar_while_its_trade_stays_shown(ready: Services, bridge: EngineBridge) -> None:
    w, _ticket = await shown_trade_chart(ready, bridge)
    chart = w.detail.chart
    first = chart.candles.last_time

    def drawn_to(time: float) -> bool:
        return chart.candles is not None and chart.candles.last_time == time

    for _ in range(2):
        await next_bar(ready)
        newest = float(ready.engine.market.get("EURUSD").m5["time"][-1])
        await until(partial(drawn_to, newest))
    assert chart.candles.last_time >= first + 600.0
    (left, right), _prices = chart.getViewBox().viewRange()
    assert left < chart.candles.last_time < right, "the new bars are in view"


@pytest.mark.qasync
async def test_a_view_the_trader_zoomed_to_is_kept_when_a_bar_closes(
    ready: Services, bridge: EngineBridge, qtbot
) -> None:
    w, ticket = await shown_trade_chart(ready, bridge)
    w.show()
    qtbot.waitExposed(w)
    chart = w.detail.chart
    w.detail.tabs.setCurrentIndex(0)
    before = chart.getViewBox().viewRange()
    centre = chart.viewport().rect().center()
    wheel = QWheelEvent(
        QPointF(centre),
        QPointF(chart.viewport().mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 240),  # two notches forward: zoomed in
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(chart.viewport(), wheel)
    zoomed = [*chart.getViewBox().viewRange()[0], *chart.getViewBox().viewRange()[1]]
    assert chart.moved_by_user and zoomed[1] - zoomed[0] < before[0][1] - before[0][0]
    drawn = chart.candles.last_time
    await next_bar(ready)
    await until(lambda: chart.candles is not None and chart.candles.last_time > drawn)
    (left, right), (low, high) = chart.getViewBox().viewRange()
    assert [left, right, low, high] == pytest.approx(zoomed)
    entry = ready.engine.trade(ticket).entry
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()  # breakeven: the pane loads the trade again with its new journal entry
    await until(lambda: bool(chart.markers))
    (left, right), (low, high) = chart.getViewBox().viewRange()
    assert [left, right, low, high] == pytest.approx(zoomed)
    w.detail.timeframe.setCurrentText("M15")  # another timeframe is drawn whole again
    assert not chart.moved_by_user and chart.getViewBox().viewRange()[0] != pytest.approx(zoomed[:2])


async def shown_figures(w: MainWindow, ticket: int) -> str:
    w.select_ticket(ticket)
    await until(lambda: w.detail.trade is not None and w.detail.trade.ticket == ticket)
    return plain(w.detail.figures.text())


@pytest.mark.qasync
async def test_r_is_in_pips_on_a_currency_pair_and_in_price_elsewhere(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, Answers())
    await w.load()
    bitcoin = await register_buy(ready, "BTCUSD", r=1500.0, volume=0.05)
    euro = await register_buy(ready, "EURUSD", r=0.0020, volume=0.1)
    yen = await register_buy(ready, "USDJPY", r=0.300, volume=1.0)
    await ready.engine.step()
    text = await shown_figures(w, bitcoin)
    assert "1 R = 1,500.00 in price = 75.00 at 0.05 lots" in text, text
    assert "pip" not in text
    trade = ready.engine.trade(bitcoin)
    assert f"entry {trade.entry:.2f} | SL {trade.sl:.2f}" in text, "prices at all the symbol's digits"
    assert "1 R = 20.0 pips = 20.00 at 0.1 lots" in await shown_figures(w, euro)
    assert "1 R = 30.0 pips" in await shown_figures(w, yen)


@pytest.mark.qasync
async def test_a_synthetic_r_says_where_it_came_from(ready: Services, bridge: EngineBridge) -> None:
    settings = ready.engine.settings
    ready.engine.update_settings(
        replace(settings, protection=replace(settings.protection, synthetic_r_atr_multiple=2.5))
    )
    w = window(ready, bridge, Answers())
    await w.load()
    ticket = await open_position(ready, "EURUSD", "BUY", 1.0)  # no stop loss
    await ready.engine.register(Registration(ticket=ticket))
    await ready.engine.step()
    trade = ready.engine.trade(ticket)
    assert trade.synthetic_r and ready.engine.market.get("EURUSD").atr_m15 > 0
    text = await shown_figures(w, ticket)
    assert f"1 R = {trade.r / 0.0001:.1f} pips" in text
    assert text.endswith("(no stop loss: R set at 2.5 x ATR (M15))"), text
    # the multiple changed since: the note still tells how this trade's R was set
    ready.engine.update_settings(
        replace(settings, protection=replace(settings.protection, synthetic_r_atr_multiple=1.0))
    )
    await w.detail.load(ticket)
    assert plain(w.detail.figures.text()).endswith("(no stop loss: R set at 2.5 x ATR (M15))")
    # a trade registered before the basis was kept says which multiple it does not know
    trade.r_basis = ""
    await w.detail.load(ticket)
    assert plain(w.detail.figures.text()).endswith(
        "(no stop loss: R set at ATR (M15) x the multiple of its registration, 1 now)"
    )


@pytest.mark.qasync
async def test_one_click_actions_reach_the_terminal_and_the_journal(ready: Services, bridge: EngineBridge) -> None:
    answers = Answers(False)  # the first confirmation is declined
    w = window(ready, bridge, answers)
    await w.load()
    ticket = await register_buy(ready, volume=1.0)
    await ready.engine.step()
    entry = ready.engine.trade(ticket).entry
    await set_price(ready, "EURUSD", round(entry + 0.5 * R, 5))
    await ready.engine.step()
    w.select_ticket(ticket)
    await until(lambda: w.detail.trade is not None and w.detail.trade_actions.close_button.isEnabled())
    actions = w.detail.trade_actions

    async def volume() -> float:
        (p,) = await ready.gateway.positions(ticket=ticket)
        return float(p.volume)

    actions.part_menu.actions()[1].trigger()  # 50 %, declined
    assert "Close part: 0.5 of 1 lots" in answers.asked[-1] and "volume: <b>0.5</b>" in answers.asked[-1]
    assert await volume() == pytest.approx(1.0), "declined: nothing sent"
    actions.part_menu.actions()[0].trigger()  # 25 %
    await until(lambda: actions.result.text().startswith("Partial close done"))
    assert await volume() == pytest.approx(0.75)
    actions.part_menu.actions()[3].trigger()  # a volume: 40 % of 0.75 -> 0.3
    await until(lambda: ready.engine.trade(ticket).volume == pytest.approx(0.45))
    assert await volume() == pytest.approx(0.45)
    actions.breakeven_button.click()
    assert f"to {entry:.5f} (breakeven)" in answers.asked[-1] and "TRADE_ACTION_SLTP" in answers.asked[-1]
    await until(lambda: actions.result.text().startswith("Breakeven done"))
    (p,) = await ready.gateway.positions(ticket=ticket)
    assert p.sl == pytest.approx(entry)
    actions.pause_button.click()
    await until(lambda: actions.pause_button.text() == "Resume DTMS here")
    assert ready.engine.trade(ticket).dtms_paused
    journal = await ready.engine.journal(ticket)
    assert [(a.kind, a.outcome) for a in journal if a.kind is not ActionKind.EXTERNAL_CHANGE][:3] == [
        (ActionKind.BREAKEVEN, ActionOutcome.SUCCESS),
        (ActionKind.PARTIAL_CLOSE, ActionOutcome.SUCCESS),
        (ActionKind.PARTIAL_CLOSE, ActionOutcome.SUCCESS),
    ]
    await until(lambda: w.detail.journal.rowCount() >= 3)
    assert w.detail.journal.item(0, 3).text() == f"SL {entry - R:.5f} -> {entry:.5f}", "at EURUSD's 5 digits"
    assert w.detail.journal.item(0, 5).text().startswith("10009 request completed")
    assert w.detail.journal.item(0, 4).text() == "asked by the trader in the window"
    actions.breakeven_button.click()  # already there: refused before anything is asked or sent
    assert "Not possible now" in answers.told[-1]
    actions.close_button.click()
    await until(lambda: not ready.engine.trade(ticket) or actions.result.text().startswith("Close done"))
    assert not await ready.gateway.positions(ticket=ticket)


@pytest.mark.qasync
async def test_chart_marks_each_action_and_score_tab_shows_components(ready: Services, bridge: EngineBridge) -> None:
    w = window(ready, bridge, Answers())
    await w.load()
    ticket = await register_buy(ready)
    await ready.engine.step()
    entry = ready.engine.trade(ticket).entry
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()  # breakeven
    w.select_ticket(ticket)
    await until(lambda: w.detail.trade is not None and bool(w.detail.chart.markers))
    ((_at, price, tip),) = w.detail.chart.markers
    assert "BREAKEVEN SUCCESS" in tip and "profit 1.00 R >= 1 R" in tip and f"SL {entry - R:.5f} ->" in tip
    assert price == pytest.approx(ready.engine.trade(ticket).sl)
    assert w.detail.chart.candles is not None and w.detail.chart.candles.count >= 12
    score = w.detail.score
    assert score.table.rowCount() == 6, "every component with its raw score, weight and contribution"
    assert [m[0] for m in score.scale.marks] == [-6.0, -4.0, -2.0, 0.0]
    assert "regime" in score.summary.text()


def test_score_tab_says_why_not_the_next_state(qtbot) -> None:
    from app.engine.defense.rules import DefenseSettings
    from app.engine.model import DefensiveState, Direction, Trade
    from app.views.score_view import ScoreView

    view = ScoreView()
    qtbot.addWidget(view)
    trade = Trade(
        ticket=5,
        symbol="EURUSD",
        direction=Direction.BUY,
        entry=1.1,
        volume=1.0,
        sl=1.098,
        tp=0.0,
        state=DefensiveState.WARNING_L1,
        score=-6.35,
    )
    view.show_score(trade, None, DefenseSettings(), paused=False)
    assert view.why_not.isVisibleTo(view) and "WARNING_L2 first" in view.why_not.text()
    assert view.scale.total == pytest.approx(-6.35)
    trade.score = -3.0
    view.show_score(trade, None, DefenseSettings(), paused=False)
    assert "holds until the score is back at or above +0 (now\u00a0-3.00)" in view.why_not.text(), "never wrapped apart"
    trade.score = 0.5
    view.show_score(trade, None, DefenseSettings(), paused=False)
    assert not view.why_not.isVisibleTo(view)


def test_chart_colours_follow_the_theme(qapp) -> None:
    from app.views.chart_palette import DARK, LIGHT, chart_colours
    from app.views.theme import ThemeChoice, themes

    try:
        themes().apply(ThemeChoice.DARK)
        assert chart_colours() is DARK
        themes().apply(ThemeChoice.LIGHT)
        assert chart_colours() is LIGHT
    finally:
        themes().apply(ThemeChoice.LIGHT)
