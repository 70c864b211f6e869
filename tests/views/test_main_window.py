"""The window on the real engine: selecting a trade shows its detail, "stop managing" asks first, the
health panel reports, closing hides to the tray (or quits without one), and Quit sets the stop."""

from __future__ import annotations

import pytest

from app.runtime import Services
from app.views.bridge import EngineBridge
from app.views.main_window import MainWindow
from tests.engine.conftest import set_price

from .conftest import register_buy, until

R = 0.0020


def window(services: Services, bridge: EngineBridge, answers: list[bool], quits: list[int], **kwargs) -> MainWindow:
    def confirm(_parent, question: str) -> bool:
        return answers.pop(0)

    return MainWindow(
        bridge,
        quit_program=lambda: quits.append(1),
        simulated=True,
        terminal="simulator",
        database=services.data_dir / "dtms.sqlite3",
        settings=services.settings,
        config_path=services.data_dir / "dtms.toml",
        account=services.gateway.account_info,
        confirm=confirm,
        notify_interval_s=0.0,
        gateway=services.gateway,
        **kwargs,
    )


@pytest.mark.qasync
async def test_detail_health_and_stop_managing(ready: Services, bridge: EngineBridge) -> None:
    answers: list[bool] = [False, True]
    quits: list[int] = []
    w = window(ready, bridge, answers, quits)
    await w.load()
    w.show()
    ticket = await register_buy(ready)
    await ready.engine.step()
    entry = ready.engine.trade(ticket).entry
    await set_price(ready, "EURUSD", round(entry + 1.0 * R, 5))
    await ready.engine.step()  # breakeven
    w.select_ticket(ticket)
    await until(lambda: w.detail.journal.rowCount() > 0)
    assert w.detail.journal.item(0, 1).text() == "BREAKEVEN" and w.detail.journal.item(0, 2).text() == "SUCCESS"
    assert f"#{ticket} EURUSD BUY" in w.detail.title.text()
    assert w.detail.chart.levels["entry"] == pytest.approx(entry)
    assert w.detail.chart.levels["SL"] == pytest.approx(ready.engine.trade(ticket).sl)
    assert "BE trigger" not in w.detail.chart.levels, "breakeven already done"
    low, high = w.detail.chart.getViewBox().viewRange()[1]
    assert all(low < price < high for price in w.detail.chart.levels.values()), "every level is in view"

    w.health.refresh()
    assert w.health.text("Terminal") == "simulator"
    assert w.health.text("Connection epoch") == "1"
    assert "ms" in w.health.text("Cycle duration") and "p50" in w.health.text("Gateway latency")
    assert w.health.text("HTTP endpoint") == "not running"
    await w.health.load_slow()
    assert w.health.text("Account") != "-" and "kB" in w.health.text("Database")
    assert "trade_registered" in w.log.toPlainText()

    w.detail.stop_button.click()  # answered No
    assert ready.engine.trade(ticket) is not None
    w.detail.stop_button.click()  # answered Yes
    await until(lambda: ready.engine.trade(ticket) is None and w.closed.rowCount() == 1)
    assert w.trades.rowCount() == 0 and answers == []
    w.close()
    assert quits == [1], "without a tray, closing the window quits"
    await w.close_tasks()


@pytest.mark.qasync
async def test_close_hides_to_the_tray_and_quit_stops(ready: Services, bridge: EngineBridge) -> None:
    quits: list[int] = []
    w = window(ready, bridge, [], quits, tray_available=True)
    w.show()
    assert w.tray.has_tray
    w.close()
    assert not w.isVisible() and quits == []
    w.tray.show_action.trigger()
    assert w.isVisible()
    w.tray.quit_action.trigger()
    assert quits == [1]
    await w.close_tasks()
