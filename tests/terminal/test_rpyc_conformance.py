"""The simulator's conformance rules, run through ``rpyc://``: an RPyC classic server in another process whose
``MetaTrader5`` is a thin face over the simulated terminal, called by ``RpycTerminal`` exactly as the gateway's
worker calls it. Each case below is a conformance test run unchanged, named by its module and function; a
module's ``sim`` marker (history, held prices, account password) configures the simulator behind the server."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.terminal.rpyc_terminal import RpycTerminal
from tests.terminal import (
    test_conformance_calls as calls,
)
from tests.terminal import (
    test_conformance_errors as errors,
)
from tests.terminal import (
    test_conformance_orders as orders,
)
from tests.terminal import (
    test_conformance_rules as rules,
)
from tests.terminal import (
    test_conformance_shapes as shapes,
)
from tests.terminal.rpyc_harness import HOST, RpycServer
from tests.terminal.sim_helpers import START


class RemoteSim(RpycTerminal):
    """The client the gateway's worker uses, plus the simulator's controls the conformance tests call."""

    def control(self, command: str, **kwargs: Any) -> Any:
        return self._call("control", (command,), kwargs)


#: (module, test function, parameters): the parametrized ones with cases taken from their own lists.
CASES: list[tuple[ModuleType, str, dict[str, Any]]] = [
    (
        calls,
        "test_positional_only_functions_reject_keywords",
        dict(zip(("name", "args", "kwargs"), calls.POSITIONAL_ONLY_CALLS[1], strict=True)),
    ),
    (calls, "test_positional_only_functions_work_by_position", {}),
    (calls, "test_keyword_only_getters_refuse_positional_arguments", {"name": "positions_get"}),
    (calls, "test_filter_precedence_is_ticket_then_symbol_then_group", {}),
    (calls, "test_group_masks_use_wildcards_and_exclusions", {}),
    (calls, "test_history_forms_range_ticket_and_position", {}),
    (calls, "test_order_send_takes_a_dict_or_the_same_keywords", {}),
    (calls, "test_dates_may_be_datetimes_ints_or_floats", {}),
    (calls, "test_fixed_format_parsers_raise_system_error_on_wrong_types", {}),
    (errors, "test_failures_return_sentinels_and_set_last_error", {}),
    (errors, "test_wrong_argument_count_is_an_error_not_an_exception", {}),
    (errors, "test_every_call_but_last_error_resets_it", {}),
    (errors, "test_bad_request_keys_are_named_in_the_message", {}),
    (errors, "test_algo_trading_disabled_is_minus_8_on_order_send_only", {}),
    (errors, "test_no_ipc_once_the_terminal_died", {}),
    (errors, "test_initialize_takes_only_path_by_position", {}),
    (errors, "test_rejected_account_gives_minus_6_and_leaves_disconnected", {}),
    (errors, "test_initialize_timeout_gives_minus_10005", {}),
    (errors, "test_login_positional_order_is_login_password_server", {}),
    (orders, "test_missing_keys_default_to_zero_and_unknown_keys_are_ignored", {}),
    (orders, "test_numpy_float64_and_bool_pass_the_type_check", {}),
    (orders, "test_order_send_returns_none_only_when_the_request_never_reached_the_server", {}),
    (orders, "test_result_echoes_the_full_request", {}),
    (orders, "test_order_check_passes_with_done_and_projects_margin", {}),
    (orders, "test_buy_executes_at_ask_and_sell_at_bid", {}),
    (orders, "test_deviation_is_the_allowed_slippage_in_points", {}),
    (orders, "test_sltp_replaces_both_levels", {}),
    (orders, "test_unchanged_sltp_answers_no_changes", {}),
    (orders, "test_partial_close_keeps_the_ticket_and_records_an_out_deal", {}),
    (orders, "test_fresh_order_and_deal_tickets", {}),
    (orders, "test_close_volume_larger_than_the_position_is_10038", {}),
    (orders, "test_volume_outside_min_max_step_is_10014", {"volume": 0.015}),
    (orders, "test_pending_orders_place_modify_and_remove", {}),
    (rules, "test_stops_on_the_wrong_side_are_invalid_with_zero_level", {}),
    (rules, "test_pending_orders_respect_the_stops_level", {}),
    (rules, "test_freeze_level_blocks_modifying_and_closing_a_position", {}),
    (rules, "test_prices_must_be_multiples_of_the_tick_size", {}),
    (rules, "test_filling_type_must_be_allowed_by_the_symbol", {}),
    (rules, "test_not_enough_money_is_10019", {}),
    (rules, "test_rejections_come_back_inside_an_order_send_result", {}),
    (rules, "test_injected_retcodes_reject_without_executing", {"retcode": 10004}),
    (rules, "test_timeout_has_an_unknown_outcome", {}),
    (rules, "test_retcode_faults_may_target_one_action", {}),
    (shapes, "test_results_are_immutable_tuples_with_shallow_asdict", {}),
    (shapes, "test_totals_are_ints_or_none_on_failure", {}),
    (shapes, "test_getters_answer_empty_tuples_for_no_match", {}),
    (shapes, "test_struct_getters_return_structs", {}),
    (shapes, "test_ticks_arrays_have_the_exact_dtype_oldest_first", {}),
    (shapes, "test_rates_from_pos_counts_back_from_the_forming_bar", {}),
]


def _case_id(case: tuple[ModuleType, str, dict[str, Any]]) -> str:
    module, name, params = case
    suffix = "-".join(str(v) for k, v in params.items() if k in ("name", "volume", "retcode"))
    return f"{module.__name__.rsplit('.', 1)[-1]}::{name}" + (f"[{suffix}]" if suffix else "")


@pytest.fixture(scope="module")
def server() -> Iterator[RpycServer]:
    running = RpycServer(face=True, options={"speed": 0.0, "start_time": START, "history_days": 1.0}).start()
    yield running
    running.stop()


def _sim_options(module: ModuleType, tmp_path: Path) -> tuple[dict[str, Any], dict[str, tuple[float, float]]]:
    """The module's ``sim`` marker as SimulatedTerminal options (as ``open_terminal`` reads it)."""
    marks = module.pytestmark if isinstance(module.pytestmark, list) else [module.pytestmark]
    options: dict[str, Any] = {"speed": 0.0, "start_time": START, "history_days": 1.0}
    for mark in marks:
        if mark.name == "sim":
            options.update(mark.kwargs)
    prices = options.pop("prices", None) or {}
    if options.pop("on_disk", False):
        options["data_dir"] = str(tmp_path)
    return options, dict(prices)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_conformance_through_rpyc(
    case: tuple[ModuleType, str, dict[str, Any]], server: RpycServer, tmp_path: Path
) -> None:
    module, name, params = case
    options, prices = _sim_options(module, tmp_path)
    server.reset(**options)
    remote = RemoteSim(HOST, server.port)
    try:
        assert remote.initialize(), remote.last_error()
        for symbol, (bid, ask) in prices.items():
            remote.control("set_price", symbol=symbol, bid=bid, ask=ask)
        test: Callable[..., None] = getattr(module, name)
        wanted = inspect.signature(test).parameters
        arguments = {"mt5": remote, **{k: v for k, v in params.items() if k in wanted}}
        test(**arguments)
    finally:
        remote.close()
