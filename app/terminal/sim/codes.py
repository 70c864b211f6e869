"""The simulator's vocabulary of failures: last_error pairs exactly as the module words them, and the
comments the trade server puts next to each retcode.
"""

from __future__ import annotations

from app.terminal import constants as c

Error = tuple[int, str]

SUCCESS: Error = (c.RES_S_OK, "Success")
CALL_FAILED: Error = (c.RES_E_FAIL, "Terminal: Call failed")
INVALID_ARGUMENTS: Error = (c.RES_E_INVALID_PARAMS, "Invalid arguments")
INVALID_COUNT: Error = (c.RES_E_INVALID_PARAMS, "Invalid number of arguments")
UNNAMED_NOT_ALLOWED: Error = (c.RES_E_INVALID_PARAMS, "Unnamed arguments not allowed")
TERMINAL_INVALID_PARAMS: Error = (c.RES_E_INVALID_PARAMS, "Terminal: Invalid params")
#: What the simulator answers for a symbol it does not know (the live terminal's code is not established).
NOT_FOUND: Error = (c.RES_E_NOT_FOUND, "Terminal: Not found")
AUTH_FAILED: Error = (c.RES_E_AUTH_FAILED, "Terminal: Authorization failed")
ALGO_DISABLED: Error = (c.RES_E_AUTO_TRADING_DISABLED, "Auto-Trading using Python API disabled in Terminal")
NO_IPC: Error = (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
IPC_TIMEOUT: Error = (c.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")

_ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")


def invalid_key(key: str) -> Error:
    """A request or keyword value of the wrong type or size."""
    return (c.RES_E_INVALID_PARAMS, f'Invalid "{key}" argument')


def invalid_unnamed(index: int) -> Error:
    """A positional argument (0-based ``index``) of the wrong type or size."""
    return (c.RES_E_INVALID_PARAMS, f"Invalid {_ORDINALS[index]} unnamed argument")


class CallError(Exception):
    """Raised inside the simulator to end a call with its failure sentinel and this last_error.

    ``result`` overrides the function's usual sentinel where the module answers differently (symbols_get
    answers False, not None, for bad arguments).
    """

    NO_RESULT: object = object()

    def __init__(self, error: Error, result: object = NO_RESULT) -> None:
        super().__init__(f"{error[0]}: {error[1]}")
        self.error = error
        self.result = result


#: Comment the trade server sends with each retcode (OrderSendResult.comment).
RETCODE_COMMENTS: dict[int, str] = {
    c.TRADE_RETCODE_REQUOTE: "Requote",
    c.TRADE_RETCODE_REJECT: "Request rejected",
    c.TRADE_RETCODE_CANCEL: "Request canceled",
    c.TRADE_RETCODE_PLACED: "Request placed",
    c.TRADE_RETCODE_DONE: "Request executed",
    c.TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
    c.TRADE_RETCODE_ERROR: "Request processing error",
    c.TRADE_RETCODE_TIMEOUT: "Request canceled by timeout",
    c.TRADE_RETCODE_INVALID: "Invalid request",
    c.TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
    c.TRADE_RETCODE_INVALID_PRICE: "Invalid price",
    c.TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
    c.TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
    c.TRADE_RETCODE_MARKET_CLOSED: "Market closed",
    c.TRADE_RETCODE_NO_MONEY: "No money",
    c.TRADE_RETCODE_PRICE_CHANGED: "Prices changed",
    c.TRADE_RETCODE_PRICE_OFF: "Off quotes",
    c.TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
    c.TRADE_RETCODE_ORDER_CHANGED: "Order state changed",
    c.TRADE_RETCODE_TOO_MANY_REQUESTS: "Too many requests",
    c.TRADE_RETCODE_NO_CHANGES: "No changes",
    c.TRADE_RETCODE_SERVER_DISABLES_AT: "Autotrading disabled by server",
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "Autotrading disabled by client",
    c.TRADE_RETCODE_LOCKED: "Request locked for processing",
    c.TRADE_RETCODE_FROZEN: "Order or position frozen",
    c.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    c.TRADE_RETCODE_CONNECTION: "No connection with the trade server",
    c.TRADE_RETCODE_LIMIT_ORDERS: "Pending orders limit reached",
    c.TRADE_RETCODE_INVALID_ORDER: "Invalid order type",
    c.TRADE_RETCODE_POSITION_CLOSED: "Position already closed",
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Close volume exceeds position volume",
    c.TRADE_RETCODE_LONG_ONLY: "Only long positions allowed",
    c.TRADE_RETCODE_SHORT_ONLY: "Only short positions allowed",
    c.TRADE_RETCODE_CLOSE_ONLY: "Only position closing allowed",
    c.TRADE_RETCODE_HEDGE_PROHIBITED: "Hedging prohibited",
}

#: order_check's verdict when every rule passes.
CHECK_PASSED = (0, "Done")


def comment_for(retcode: int) -> str:
    return RETCODE_COMMENTS.get(retcode, "Request rejected")
