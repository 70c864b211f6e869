"""A minimal trading bot: open a position on the simulated terminal, hand it to DTMS, show what DTMS makes of it.

Start DTMS Desk with the simulated terminal first (``python main.py --terminal sim``), then:

    python examples/bot_example.py --symbol EURUSD --side buy --volume 0.01 --sl-distance 0.0020

The order goes through ``POST /sim/order_send`` as the exact request dict MetaTrader5's ``order_send`` takes,
so the same code runs against the real terminal by calling ``mt5.order_send(request)`` instead. Registration
uses ``register_trade_with_dtms_api``, which retries while DTMS is starting. If the endpoint requires a token,
pass ``--token`` or set ``DTMS_API_TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from decimal import Decimal
from typing import Any

import httpx

from app.api.schemas import SimQuote, SimTicksResponse
from app.client import (
    DEFAULT_API_URL,
    DtmsApiError,
    DtmsClient,
    auth_headers,
    close_dtms_client,
    register_trade_with_dtms_api,
)

# MetaTrader5 constants this bot needs (the same values as mt5.TRADE_ACTION_DEAL etc.)
TRADE_ACTION_DEAL = 1
ORDER_TYPE = {"buy": 0, "sell": 1}  # ORDER_TYPE_BUY, ORDER_TYPE_SELL
ORDER_FILLING_IOC = 1
TRADE_RETCODE_DONE = 10009
MAGIC = 240_001


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", default=DEFAULT_API_URL, help="DTMS Desk's HTTP endpoint")
    parser.add_argument("--symbol", default="EURUSD")
    parser.add_argument("--side", type=str.lower, choices=sorted(ORDER_TYPE), default="buy")
    parser.add_argument("--volume", type=float, default=0.01, help="lots")
    parser.add_argument(
        "--sl-distance",
        type=float,
        default=0.0,
        help="stop loss this far from the fill price, in price units (0: none; DTMS then uses a synthetic R)",
    )
    parser.add_argument("--tp-distance", type=float, default=0.0, help="take profit distance in price units (0: none)")
    parser.add_argument("--token", default=None, help="bearer token (default: $DTMS_API_TOKEN)")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for DTMS to become ready")
    return parser.parse_args(argv)


def price_digits(quote: SimQuote) -> int:
    """The symbol's digits when the simulator says so, else the decimals its prices are quoted with."""
    if quote.digits is not None:
        return quote.digits
    return max(max(0, -int(Decimal(repr(price)).as_tuple().exponent)) for price in (quote.bid, quote.ask))


def deal_request(args: argparse.Namespace, quote: SimQuote) -> dict[str, Any]:
    """A market order exactly as ``order_send`` takes it: ints as int, prices and volume as float."""
    buy = args.side == "buy"
    price = quote.ask if buy else quote.bid
    digits = price_digits(quote)
    toward_loss = -1.0 if buy else 1.0
    sl = round(price + toward_loss * args.sl_distance, digits) if args.sl_distance > 0 else 0.0
    tp = round(price - toward_loss * args.tp_distance, digits) if args.tp_distance > 0 else 0.0
    return {
        "action": TRADE_ACTION_DEAL,
        "symbol": args.symbol,
        "volume": float(args.volume),
        "type": ORDER_TYPE[args.side],
        "price": float(price),
        "sl": float(sl),
        "tp": float(tp),
        "deviation": 20,
        "magic": MAGIC,
        "comment": "dtms example bot",
        "type_filling": ORDER_FILLING_IOC,
    }


async def open_position(sim: httpx.AsyncClient, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send the deal; returns (request, OrderSendResult as a dict). Raises RuntimeError when it is refused."""
    response = await sim.get("/sim/ticks")
    if not response.is_success:
        raise DtmsApiError.from_response(response)
    quotes = SimTicksResponse.model_validate_json(response.content).root
    if args.symbol not in quotes:
        raise RuntimeError(f"the simulator has no {args.symbol}; it quotes {', '.join(sorted(quotes))}")
    request = deal_request(args, quotes[args.symbol])
    response = await sim.post("/sim/order_send", json=request)
    if not response.is_success:
        raise DtmsApiError.from_response(response)
    result = response.json()
    if result.get("retcode") != TRADE_RETCODE_DONE:
        raise RuntimeError(f"order_send refused: retcode {result.get('retcode')} {result.get('comment', '')!r}")
    return request, result


async def run(args: argparse.Namespace) -> int:
    try:
        return await trade_once(args)
    finally:
        await close_dtms_client()  # the shared pool register_trade_with_dtms_api opened on this loop


async def trade_once(args: argparse.Namespace) -> int:
    headers = auth_headers(args.token)
    async with (
        httpx.AsyncClient(base_url=args.api_url, headers=headers, timeout=10.0) as sim,
        DtmsClient(args.api_url, token=args.token) as dtms,
    ):
        if not await dtms.wait_until_ready(args.wait):
            print(f"DTMS at {args.api_url} is not ready; is DTMS Desk running with --terminal sim?")
            return 1
        try:
            request, result = await open_position(sim, args)
        except (RuntimeError, DtmsApiError) as exc:
            print(f"could not open the position: {exc}")
            return 1
        ticket = int(result["order"])  # a market deal's order ticket is its position's ticket
        print(f"opened {args.side.upper()} {result['volume']} {args.symbol} at {result['price']}: position {ticket}")

        trade = {
            "symbol": args.symbol,
            "direction": args.side,
            "entry_price": result["price"],
            "volume": result["volume"],
            "stop_loss": request["sl"],
            "take_profit": request["tp"],
            "magic": MAGIC,
            "comment": request["comment"],
        }
        if not await register_trade_with_dtms_api(ticket, trade, api_url=args.api_url, token=args.token):
            print("DTMS did not take the trade (the log above says why)")
            return 1
        try:
            detail = await dtms.trade(ticket)
        except DtmsApiError as exc:
            print(f"registered, but reading the trade back failed: {exc}")
            return 1
        r_kind = "synthetic (no SL)" if detail.synthetic_r else "from the SL"
        print(
            f"DTMS manages {ticket}: state {detail.state}, score {detail.score:+.1f}, R {detail.r:g} {r_kind}, "
            f"SL {detail.sl:g}, TP {detail.tp:g}, managed by {detail.managed_by}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
