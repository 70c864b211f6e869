"""What an MT5 answer code means and what to do about it.

Two code spaces meet at the terminal boundary:

- trade server retcodes (``OrderSendResult.retcode``, 10004-10046): ``classify`` sorts them into success,
  transient, permanent and unknown outcome (10012 TIMEOUT: the order may or may not exist), and
  ``retry_hint`` says what has to happen before a transient one is worth resending;
- module ``last_error()`` codes (1, -1 ... -8, -10000 ... -10005): the IPC family means the terminal
  connection itself is in question.

The tables follow the MetaTrader5 5.0.6231 module and the MQL5 trade server return codes.
"""

from __future__ import annotations

from enum import StrEnum

from app.terminal import constants as c


class RetcodeClass(StrEnum):
    SUCCESS = "success"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN_OUTCOME = "unknown_outcome"


class RetryHint(StrEnum):
    """What must happen before a transient retcode is worth resending."""

    REFRESH_PRICE = "refresh_price"
    BACK_OFF = "back_off"
    REREAD_STATE = "reread_state"
    WAIT_PRICE_AWAY = "wait_price_away"
    CHECK_OUTCOME = "check_outcome"
    NONE = "none"


SUCCESS_RETCODES: frozenset[int] = frozenset(
    {
        c.TRADE_RETCODE_PLACED,
        c.TRADE_RETCODE_DONE,
        c.TRADE_RETCODE_DONE_PARTIAL,
        c.TRADE_RETCODE_NO_CHANGES,
    }
)

_HINTS: dict[int, RetryHint] = {
    c.TRADE_RETCODE_REQUOTE: RetryHint.REFRESH_PRICE,
    c.TRADE_RETCODE_PRICE_CHANGED: RetryHint.REFRESH_PRICE,
    c.TRADE_RETCODE_PRICE_OFF: RetryHint.REFRESH_PRICE,
    c.TRADE_RETCODE_TOO_MANY_REQUESTS: RetryHint.BACK_OFF,
    c.TRADE_RETCODE_CONNECTION: RetryHint.BACK_OFF,
    c.TRADE_RETCODE_LOCKED: RetryHint.REREAD_STATE,
    c.TRADE_RETCODE_ORDER_CHANGED: RetryHint.REREAD_STATE,
    c.TRADE_RETCODE_FROZEN: RetryHint.WAIT_PRICE_AWAY,
    c.TRADE_RETCODE_TIMEOUT: RetryHint.CHECK_OUTCOME,
}

#: Worth resending once the hint's condition holds (10012 TIMEOUT is not among them: its outcome is unknown).
TRANSIENT_RETCODES: frozenset[int] = frozenset(_HINTS) - {c.TRADE_RETCODE_TIMEOUT}

_MEANINGS: dict[int, str] = {
    10004: "requote: server offers a different price",
    10006: "request rejected",
    10007: "request canceled by trader",
    10008: "order placed (pending order accepted)",
    10009: "request completed (market deal done / modification applied)",
    10010: "only part of the request completed",
    10011: "request processing error",
    10012: "request canceled by timeout",
    10013: "invalid request",
    10014: "invalid volume",
    10015: "invalid price",
    10016: "invalid stops (SL/TP)",
    10017: "trading disabled",
    10018: "market closed",
    10019: "not enough money",
    10020: "prices changed",
    10021: "no quotes to process the request",
    10022: "invalid order expiration",
    10023: "order state changed",
    10024: "too frequent requests",
    10025: "no changes in request",
    10026: "autotrading disabled by server",
    10027: "autotrading disabled by client terminal",
    10028: "request locked for processing",
    10029: "order or position frozen",
    10030: "invalid order filling type",
    10031: "no connection with trade server",
    10032: "operation allowed only for live accounts",
    10033: "pending-order count limit reached",
    10034: "order+position volume limit for the symbol reached",
    10035: "incorrect or prohibited order type",
    10036: "position with this identifier already closed",
    10038: "close volume exceeds current position volume",
    10039: "a close order already exists for this position",
    10040: "open-position count limit reached",
    10041: "pending-order activation request rejected, order canceled",
    10042: "only long positions allowed for symbol",
    10043: "only short positions allowed for symbol",
    10044: "only position closing allowed for symbol",
    10045: "closing allowed only by FIFO rule",
    10046: "opposite positions on one symbol prohibited (hedging off)",
}

#: The server's known verdicts that are neither success nor transient (resending unchanged is pointless).
PERMANENT_RETCODES: frozenset[int] = (
    frozenset(_MEANINGS) - SUCCESS_RETCODES - TRANSIENT_RETCODES - {c.TRADE_RETCODE_TIMEOUT}
)

#: ``last_error()`` codes of the IPC family: the terminal connection failed or is not there.
IPC_ERROR_CODES: frozenset[int] = frozenset(
    {
        c.RES_E_INTERNAL_FAIL,
        c.RES_E_INTERNAL_FAIL_SEND,
        c.RES_E_INTERNAL_FAIL_RECEIVE,
        c.RES_E_INTERNAL_FAIL_INIT,
        c.RES_E_INTERNAL_FAIL_CONNECT,
        c.RES_E_INTERNAL_FAIL_TIMEOUT,
    }
)

#: ``last_error()`` codes after which the module holds no connection (a broken pipe drops it too).
CONNECTION_LOST_CODES: frozenset[int] = frozenset(
    {c.RES_E_INTERNAL_FAIL_RECEIVE, c.RES_E_INTERNAL_FAIL_CONNECT, c.RES_E_INTERNAL_FAIL_TIMEOUT}
)


def classify(retcode: int) -> RetcodeClass:
    """The class of a trade server retcode; a code nobody documents is treated as permanent."""
    if retcode in SUCCESS_RETCODES:
        return RetcodeClass.SUCCESS
    if retcode == c.TRADE_RETCODE_TIMEOUT:
        return RetcodeClass.UNKNOWN_OUTCOME
    if retcode in TRANSIENT_RETCODES:
        return RetcodeClass.TRANSIENT
    return RetcodeClass.PERMANENT


def retry_hint(retcode: int) -> RetryHint:
    return _HINTS.get(retcode, RetryHint.NONE)


def describe(retcode: int) -> str:
    return _MEANINGS.get(retcode, f"unknown retcode {retcode}")
