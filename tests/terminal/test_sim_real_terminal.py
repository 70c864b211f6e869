"""The simulated terminal's real-terminal states: Algo Trading off, expert trading disabled, broker link
lost, symbols outside Market Watch, history still loading, partial fills under each policy and execution
mode, and a server time zone."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path

import pytest

from app.terminal import constants as c
from app.terminal.sim.terminal import SimulatedTerminal


@pytest.fixture
def mt5() -> SimulatedTerminal:
    terminal = SimulatedTerminal(speed=0.0, start_time=1_772_618_400.0)
    assert terminal.initialize()
    return terminal


def _deal(
    mt5: SimulatedTerminal, volume: float = 1.0, filling: int = c.ORDER_FILLING_FOK, symbol: str = "EURUSD"
) -> object:
    tick = mt5.symbol_info_tick(symbol)
    return mt5.order_send(
        {
            "action": c.TRADE_ACTION_DEAL,
            "symbol": symbol,
            "volume": volume,
            "type": c.ORDER_TYPE_BUY,
            "price": tick.ask,
            "type_filling": filling,
        }
    )


def test_algo_trading_off_shows_in_terminal_info_and_answers_10027(mt5: SimulatedTerminal) -> None:
    mt5.control("inject_fault", kind="algo_trading_off")
    assert mt5.terminal_info().trade_allowed is False
    result = _deal(mt5)
    assert result.retcode == c.TRADE_RETCODE_CLIENT_DISABLES_AT and mt5.positions_total() == 0
    mt5.control("clear_faults")
    assert mt5.terminal_info().trade_allowed and _deal(mt5).retcode == c.TRADE_RETCODE_DONE


def test_expert_trading_disabled_shows_in_account_info_and_answers_10026(mt5: SimulatedTerminal) -> None:
    mt5.control("inject_fault", kind="account_trading_off")
    assert mt5.account_info().trade_expert is False and mt5.account_info().trade_allowed is True
    assert _deal(mt5).retcode == c.TRADE_RETCODE_SERVER_DISABLES_AT


def test_broker_link_lost_stops_ticks_and_answers_10031(mt5: SimulatedTerminal) -> None:
    before = mt5.symbol_info_tick("EURUSD")
    mt5.control("inject_fault", kind="broker_link_lost")
    mt5.control("advance", seconds=600)
    mt5.control("set_price", symbol="EURUSD", bid=before.bid + 0.01)
    assert mt5.terminal_info().connected is False
    assert mt5.symbol_info_tick("EURUSD") == before, "the terminal shows the last tick it had"
    assert _deal(mt5).retcode == c.TRADE_RETCODE_CONNECTION
    mt5.control("clear_faults")
    assert mt5.terminal_info().connected and mt5.symbol_info_tick("EURUSD").time > before.time


def test_a_symbol_outside_market_watch_has_no_tick_until_selected(mt5: SimulatedTerminal) -> None:
    mt5.control("inject_fault", kind="outside_market_watch", symbols=["GBPUSD"])
    assert mt5.symbol_info_tick("GBPUSD") is None
    assert mt5.last_error() == (-1, "Terminal: Call failed")
    assert mt5.symbol_info("GBPUSD").visible is False
    assert mt5.symbol_select("GBPUSD", True)
    assert mt5.symbol_info_tick("GBPUSD") is not None


def test_history_is_none_for_the_first_requests(mt5: SimulatedTerminal) -> None:
    mt5.control("inject_fault", kind="history_loading", symbols=["GBPUSD"], count=2)
    for _ in range(2):
        assert mt5.copy_rates_from_pos("GBPUSD", c.TIMEFRAME_M5, 0, 10) is None
        assert mt5.last_error() == (-1, "Terminal: Call failed")
    assert len(mt5.copy_rates_from_pos("GBPUSD", c.TIMEFRAME_M5, 0, 10)) == 10
    assert mt5.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M5, 0, 10) is not None, "other symbols are loaded"


def test_partial_fills_follow_the_filling_policy_and_execution_mode(mt5: SimulatedTerminal) -> None:
    mt5.control("inject_fault", kind="partial_fill", fraction=0.4, count=4)
    ioc = _deal(mt5, filling=c.ORDER_FILLING_IOC)
    assert ioc.retcode == c.TRADE_RETCODE_DONE_PARTIAL and ioc.volume == pytest.approx(0.4)
    assert ioc.request.volume == 1.0 and mt5.positions_get()[0].volume == pytest.approx(0.4)
    fok = _deal(mt5, filling=c.ORDER_FILLING_FOK)
    assert fok.retcode == c.TRADE_RETCODE_REJECT and fok.volume == 0.0, "fill or kill: nothing"
    mt5.control("configure_symbol", symbol="EURUSD", trade_exemode=c.SYMBOL_TRADE_EXECUTION_EXCHANGE, filling_mode=0)
    ret = _deal(mt5, filling=c.ORDER_FILLING_RETURN)
    assert ret.retcode == c.TRADE_RETCODE_DONE_PARTIAL and ret.volume == pytest.approx(0.4)
    mt5.control(
        "configure_symbol",
        symbol="EURUSD",
        trade_exemode=c.SYMBOL_TRADE_EXECUTION_INSTANT,
        filling_mode=c.SYMBOL_FILLING_FOK,
    )
    instant = _deal(mt5, filling=c.ORDER_FILLING_FOK)
    assert instant.retcode == c.TRADE_RETCODE_REJECT, "instant execution fills all or nothing"
    assert mt5.positions_total() == 2


def test_bad_parameters_are_refused_with_their_name(mt5: SimulatedTerminal) -> None:
    with pytest.raises(ValueError, match="fraction"):
        mt5.control("inject_fault", kind="partial_fill", fraction=1.5)
    with pytest.raises(ValueError, match="symbols"):
        mt5.control("inject_fault", kind="outside_market_watch")
    with pytest.raises(ValueError, match="count"):
        mt5.control("inject_fault", kind="history_loading", count=0)


def test_the_server_runs_in_its_own_time_zone(tmp_path: Path) -> None:
    mt5 = SimulatedTerminal(data_dir=tmp_path, utc_offset_s=7200)
    assert mt5.initialize()
    assert mt5.control("now") == pytest.approx(time.time() + 7200, abs=5)
    mt5.close()
    again = SimulatedTerminal(data_dir=tmp_path)  # the saved broker keeps its zone
    assert again.control("now") == pytest.approx(time.time() + 7200, abs=5)
    again.close()


FACTS = json.loads(resources.files("tests.data").joinpath("mt5_api_facts.json").read_text(encoding="utf-8"))


def test_the_new_answers_are_the_real_modules(mt5: SimulatedTerminal) -> None:
    """Retcodes, their meanings and the -1 message as MetaQuotes documents them (tests/data/mt5_api_facts.json)."""
    meanings = FACTS["retcode_meanings"]
    assert "client terminal" in meanings[str(c.TRADE_RETCODE_CLIENT_DISABLES_AT)]
    assert "server" in meanings[str(c.TRADE_RETCODE_SERVER_DISABLES_AT)]
    assert "trade server" in meanings[str(c.TRADE_RETCODE_CONNECTION)]
    assert "part" in meanings[str(c.TRADE_RETCODE_DONE_PARTIAL)]
    assert c.TRADE_RETCODE_DONE_PARTIAL in FACTS["retcodes_success"].values()
    mt5.control("inject_fault", kind="outside_market_watch", symbols=["GBPUSD"])
    mt5.symbol_info_tick("GBPUSD")
    failed = FACTS["last_error_codes"]["RES_E_FAIL"]
    assert mt5.last_error() == (failed["code"], failed["module_messages"][0])
    assert "instant/request execution (trade_exemode 1/0) -> FOK only" in FACTS["broker_rules"]["filling"]
