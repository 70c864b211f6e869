"""The HTTP contract's bodies: what existing bots send is accepted, what would be wrong is refused by name."""

from __future__ import annotations

import math
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.api.schemas import (
    ActionInfo,
    DefensiveStateName,
    DirectionName,
    DisableTradeRequest,
    EnableTradeRequest,
    EnableTradeResponse,
    ErrorCode,
    ErrorResponse,
    HealthResponse,
    LifecycleStateName,
    SimFaultPost,
    SimTickPost,
    SimTicksResponse,
    TradeDetail,
    TradeRegistryEntry,
    TransitionInfo,
    validation_error,
)
from app.engine.model import DefensiveState, Direction, LifecycleState

BASE = {"ticket": 123456, "symbol": "EURUSD", "direction": "BUY"}


def enable(**changes: object) -> EnableTradeRequest:
    return EnableTradeRequest.model_validate({**BASE, **changes})


def refused(body: dict[str, object]) -> ErrorResponse:
    with pytest.raises(ValidationError) as caught:
        EnableTradeRequest.model_validate(body)
    return validation_error(caught.value.errors())


# --- accepted variants ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "expected"), [("buy", "BUY"), ("SELL", "SELL"), (" Sell ", "SELL"), ("bUy", "BUY")])
def test_direction_in_any_case_is_normalised(sent: str, expected: str) -> None:
    assert enable(direction=sent).direction == expected


def test_a_full_registration_keeps_every_value() -> None:
    request = enable(
        entry=1.0850, volume=0.1, stop_loss=1.0800, take_profit=1.0950, strategy_type="breakout", magic=7, comment="bot"
    )
    assert (request.entry, request.volume, request.stop_loss, request.take_profit) == (1.085, 0.1, 1.08, 1.095)
    assert (request.strategy_type, request.magic, request.comment) == ("breakout", 7, "bot")


def test_entry_null_and_missing_volume_are_unknowns() -> None:
    request = enable(entry=None)
    assert request.entry is None
    assert request.volume is None


def test_entry_price_is_accepted_for_entry() -> None:
    assert enable(entry_price=1.2345).entry == 1.2345


def test_entry_wins_over_entry_price_when_both_are_sent() -> None:
    assert enable(entry=1.5, entry_price=1.4).entry == 1.5


def test_a_null_entry_beside_an_entry_price_takes_the_price() -> None:
    request = enable(entry=None, entry_price=1.4, stop_loss=None, sl=1.3, take_profit=None, tp=1.6)
    assert (request.entry, request.stop_loss, request.take_profit) == (1.4, 1.3, 1.6)


@pytest.mark.parametrize("level", [0, 0.0, None])
def test_a_zero_or_null_level_means_no_level(level: float | None) -> None:
    request = enable(stop_loss=level, take_profit=level)
    assert request.stop_loss is None
    assert request.take_profit is None


def test_sl_and_tp_are_accepted_for_stop_loss_and_take_profit() -> None:
    request = enable(sl=1.07, tp=1.1)
    assert (request.stop_loss, request.take_profit) == (1.07, 1.1)


def test_unknown_keys_from_existing_bots_are_ignored() -> None:
    request = enable(order_type="market", confidence=0.8, timestamp="2024-01-01T00:00:00")
    assert request.model_dump(exclude_none=True) == {"ticket": 123456, "symbol": "EURUSD", "direction": "BUY"}


def test_the_symbol_is_stripped_and_a_blank_strategy_is_none() -> None:
    request = enable(symbol="  XAUUSD ", strategy_type="   ")
    assert request.symbol == "XAUUSD"
    assert request.strategy_type is None


def test_a_json_body_with_numeric_strings_from_a_bot_still_parses() -> None:
    request = EnableTradeRequest.model_validate_json(
        '{"ticket": "42", "symbol": "GBPUSD", "direction": "sell", "entry_price": "1.27", "volume": 0.5}'
    )
    assert (request.ticket, request.direction, request.entry, request.volume) == (42, "SELL", 1.27, 0.5)


def test_the_largest_mt5_ticket_and_a_29_character_comment_are_accepted() -> None:
    request = enable(ticket=2**63 - 1, comment="c" * 29)
    assert request.ticket == 2**63 - 1
    assert len(request.comment or "") == 29


# --- rejections, each naming its field ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ticket": True}, "ticket"),
        ({"ticket": 0}, "ticket"),
        ({"ticket": -5}, "ticket"),
        ({"ticket": 2**63}, "ticket"),
        ({"ticket": 1.5}, "ticket"),
        ({"ticket": "abc"}, "ticket"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "   "}, "symbol"),
        ({"symbol": "S" * 30}, "symbol"),
        ({"symbol": 5}, "symbol"),
        ({"direction": "LONG"}, "direction"),
        ({"direction": 0}, "direction"),
        ({"entry": math.nan}, "entry"),
        ({"entry": -1.0}, "entry"),
        ({"entry_price": math.inf}, "entry_price"),
        ({"entry": True}, "entry"),
        ({"volume": 0}, "volume"),
        ({"volume": -0.01}, "volume"),
        ({"volume": math.nan}, "volume"),
        ({"stop_loss": -1.0}, "stop_loss"),
        ({"stop_loss": -math.inf}, "stop_loss"),
        ({"sl": math.nan}, "sl"),
        ({"take_profit": math.inf}, "take_profit"),
        ({"tp": -2}, "tp"),
        ({"magic": -1}, "magic"),
        ({"magic": False}, "magic"),
        ({"comment": "c" * 30}, "comment"),
        ({"strategy_type": "s" * 65}, "strategy_type"),
    ],
)
def test_a_bad_value_is_refused_with_its_field_named(changes: dict[str, object], field: str) -> None:
    error = refused({**BASE, **changes})
    assert error.error == ErrorCode.VALIDATION
    assert error.field == field
    assert error.detail.startswith(f"{field}: ")


@pytest.mark.parametrize("missing", ["ticket", "symbol", "direction"])
def test_a_missing_required_field_is_named(missing: str) -> None:
    body = {key: value for key, value in BASE.items() if key != missing}
    error = refused(body)
    assert error.field == missing
    assert "required" in error.detail.lower()


def test_the_message_says_what_is_wrong_with_a_number() -> None:
    error = refused({**BASE, "stop_loss": -3.0})
    assert error.detail == "stop_loss: must be a finite number >= 0, got -3.0"


def test_every_bad_field_is_reported_and_the_first_is_named() -> None:
    error = refused({**BASE, "symbol": "", "volume": -1})
    assert error.field == "symbol"
    assert "volume: " in error.detail


def test_fastapi_style_locations_drop_the_body_prefix() -> None:
    errors = [{"loc": ("body", "entry_price"), "msg": "Value error, must be a finite number >= 0, got nan"}]
    assert validation_error(errors) == ErrorResponse(
        error="validation_error", detail="entry_price: must be a finite number >= 0, got nan", field="entry_price"
    )


def test_disable_takes_a_valid_ticket_only() -> None:
    assert DisableTradeRequest.model_validate({"ticket": 9, "extra": 1}).ticket == 9
    with pytest.raises(ValidationError):
        DisableTradeRequest.model_validate({"ticket": True})


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_level_is_accepted_exactly_when_finite_and_not_negative(value: float) -> None:
    body = {**BASE, "stop_loss": value}
    if math.isfinite(value) and value >= 0:
        assert enable(stop_loss=value).stop_loss == (value or None)
    else:
        assert refused(body).field == "stop_loss"


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["buy", "sell"]),
    st.lists(st.booleans(), min_size=4, max_size=4),
    st.sampled_from(["", " ", "\t"]),
)
def test_every_casing_of_a_direction_is_understood(word: str, uppers: list[bool], pad: str) -> None:
    sent = pad + "".join(ch.upper() if up else ch for ch, up in zip(word, uppers, strict=False)) + pad
    assert enable(direction=sent).direction == word.upper()


# --- responses and simulator bodies ---------------------------------------------------------------------


def test_the_contract_names_match_the_engine_vocabulary() -> None:
    assert set(typing.get_args(DirectionName)) == {d.value for d in Direction}
    assert set(typing.get_args(DefensiveStateName)) == {s.value for s in DefensiveState}
    assert set(typing.get_args(LifecycleStateName)) == {s.value for s in LifecycleState}


def test_a_trade_detail_round_trips_through_json() -> None:
    detail = TradeDetail(
        ticket=5,
        symbol="EURUSD",
        direction="SELL",
        entry=1.1,
        volume=0.2,
        sl=1.11,
        tp=0.0,
        state="HEDGED",
        hedge_ticket=6,
        flat_timer_until=1_700_004_500.0,
        transitions=[TransitionInfo(from_state="WARNING_L2", to_state="HEDGED", reason="score -6", score=-6.5, at=1.0)],
        journal=[ActionInfo(ticket=5, kind="HEDGE", outcome="SUCCESS", retcode=10009, request={"action": 1})],
    )
    again = TradeDetail.model_validate_json(detail.model_dump_json())
    assert again == detail
    assert again.transitions[0].to_state == "HEDGED"


def test_an_enable_answer_parses_and_ignores_newer_server_fields() -> None:
    body = {
        "success": True,
        "ticket": 5,
        "already_registered": True,
        "server_version": "9",
        "trade_info": {
            "ticket": 5,
            "symbol": "EURUSD",
            "direction": "BUY",
            "entry": 1.1,
            "volume": 0.1,
            "sl": 0.0,
            "tp": 0.0,
            "state": "HEALTHY",
            "synthetic_r": True,
            "future_field": 1,
        },
    }
    answer = EnableTradeResponse.model_validate(body)
    assert answer.already_registered and answer.trade_info.synthetic_r
    assert answer.trade_info.managed_by == "dtms_manager"


def test_an_unknown_ticket_in_the_registry_has_no_owner() -> None:
    entry = TradeRegistryEntry(ticket=77)
    assert entry.model_dump() == {
        "ticket": 77,
        "managed_by": "",
        "breakeven_triggered": False,
        "symbol": None,
        "direction": None,
        "strategy_type": None,
    }


def test_health_states_are_limited_to_the_documented_words() -> None:
    assert HealthResponse(status="healthy", dtms_initialized=True, state="READY").state == "READY"
    with pytest.raises(ValidationError):
        HealthResponse(status="great", dtms_initialized=True)


@pytest.mark.parametrize(
    ("body", "fixed"),
    [
        ({"symbol": "EURUSD", "bid": 1.1, "ask": 1.1002}, (1.1, 1.1002, None)),
        ({"symbol": "EURUSD", "bid": 1.1}, (1.1, None, None)),
        ({"symbol": "EURUSD", "mode": "live"}, (None, None, "live")),
    ],
)
def test_sim_tick_posts_hold_a_price_or_release_it(body: dict[str, object], fixed: tuple[object, ...]) -> None:
    post = SimTickPost.model_validate(body)
    assert (post.bid, post.ask, post.mode) == fixed


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "EURUSD"},
        {"symbol": "EURUSD", "bid": 1.1, "mode": "live"},
        {"symbol": "EURUSD", "bid": 1.2, "ask": 1.1},
        {"symbol": "EURUSD", "bid": math.nan},
        {"symbol": "EURUSD", "bid": 0},
        {"symbol": "EURUSD", "mode": "frozen"},
    ],
)
def test_bad_sim_tick_posts_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimTickPost.model_validate(body)


def test_sim_ticks_and_faults_parse() -> None:
    ticks = SimTicksResponse.model_validate({"EURUSD": {"bid": 1.1, "ask": 1.1001, "digits": 5}})
    assert ticks.root["EURUSD"].digits == 5

    fault = SimFaultPost.model_validate({"kind": " Retcode ", "retcode": 10012, "executed": True, "count": 2})
    assert fault.kind == "retcode"
    assert fault.params() == {"retcode": 10012, "executed": True, "count": 2}
    assert SimFaultPost.model_validate({"kind": "clear"}).params() == {}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": ""},
        {"kind": "block", "seconds": 0},
        {"kind": "block", "seconds": 601},
        {"kind": "ipc_timeout", "count": 0},
        {"kind": "retcode", "retcode": True},
        {"kind": "random", "probability": 1.5},
    ],
)
def test_bad_fault_posts_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimFaultPost.model_validate(body)
