"""What the terminal shows about the world: symbols, ticks, the account, itself, open positions and
pending orders, as the module's structs with current prices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim.broker import Broker
from app.terminal.sim.money import Money
from app.terminal.sim.position_table import profit as position_profit
from app.terminal.structs import AccountInfo, SymbolInfo, TerminalInfo, Tick, TradeOrder, TradePosition

if TYPE_CHECKING:
    from app.terminal.sim.market.core import Market
    from app.terminal.sim.symbols import SymbolSpec

TERMINAL_BUILD = 4755
TERMINAL_RELEASE = "20 Feb 2025"

_ALL_EXPIRATIONS = (
    c.SYMBOL_EXPIRATION_GTC
    | c.SYMBOL_EXPIRATION_DAY
    | c.SYMBOL_EXPIRATION_SPECIFIED
    | c.SYMBOL_EXPIRATION_SPECIFIED_DAY
)
_ALL_ORDER_KINDS = (
    c.SYMBOL_ORDER_MARKET | c.SYMBOL_ORDER_LIMIT | c.SYMBOL_ORDER_STOP | c.SYMBOL_ORDER_STOP_LIMIT
    | c.SYMBOL_ORDER_SL | c.SYMBOL_ORDER_TP | c.SYMBOL_ORDER_CLOSEBY
)  # fmt: skip


#: Up to this many positions are valued one by one; more go through the bulk table.
_ONE_BY_ONE = 200


def calc_mode(spec: SymbolSpec) -> int:
    if spec.margin_initial <= 0 and spec.currency_margin == spec.currency_base:
        return c.SYMBOL_CALC_MODE_FOREX
    return c.SYMBOL_CALC_MODE_CFDLEVERAGE


class Views:
    def __init__(self, market: Market, broker: Broker, money: Money) -> None:
        self._market = market
        self._broker = broker
        self._money = money

    def tick(self, symbol: str) -> Tick:
        quote = self._market.quote(symbol)
        return Tick(quote.time_msc // 1000, quote.bid, quote.ask, quote.last, quote.volume, quote.time_msc,
                    quote.flags, quote.volume_real)  # fmt: skip

    def symbol_info(self, symbol: str, *, selected: bool) -> SymbolInfo:
        spec = self._market.symbols[symbol]
        quote = self._market.quote(symbol)
        days = self._market.rates_from_pos(symbol, c.TIMEFRAME_D1, 0, 2)
        today = days[-1]
        previous_close = float(days[-2]["close"]) if len(days) > 1 else float(today["open"])
        spread_price = spec.spread_points * spec.point
        bid_high, bid_low = max(float(today["high"]), quote.bid), min(float(today["low"]), quote.bid)
        last, last_high, last_low = (quote.last, bid_high, bid_low) if spec.has_trade_flags else (0.0, 0.0, 0.0)
        tick_value = spec.trade_tick_size * spec.trade_contract_size * self._money.rate(spec.currency_profit)
        change = round((quote.bid - previous_close) / previous_close * 100.0, 4) if previous_close else 0.0
        return SymbolInfo(
            False, c.SYMBOL_CHART_MODE_BID, selected, selected, 0, 0, 0, quote.volume, quote.volume, 0,
            quote.time_msc // 1000, spec.digits, round((quote.ask - quote.bid) / spec.point), True, 10,
            calc_mode(spec), spec.trade_mode, 0, 0, spec.trade_stops_level, spec.trade_freeze_level,
            spec.trade_exemode, c.SYMBOL_SWAP_MODE_POINTS, c.DAY_OF_WEEK_WEDNESDAY, False, _ALL_EXPIRATIONS,
            spec.filling_mode, _ALL_ORDER_KINDS, c.SYMBOL_ORDERS_GTC, 0, 0,
            quote.bid, bid_high, bid_low, quote.ask, round(bid_high + spread_price, spec.digits),
            round(bid_low + spread_price, spec.digits), last, last_high, last_low,
            quote.volume_real, quote.volume_real, 0.0, 0.0, spec.point, tick_value, tick_value, tick_value,
            spec.trade_tick_size, spec.trade_contract_size, 0.0, 0.0, 0.0, spec.volume_min, spec.volume_max,
            spec.volume_step, 0.0, spec.swap_long, spec.swap_short, spec.margin_initial, spec.margin_maintenance,
            0.0, 0.0, 0.0, 0.0, 0.0, float(today["open"]), previous_close, 0.0, 0.0, 0.0, 0.0,
            spec.trade_contract_size, change, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            "", "", spec.currency_base, spec.currency_profit, spec.currency_margin, "", spec.description, "", "", "",
            spec.name, "", spec.path,
        )  # fmt: skip

    def account_info(self, *, trade_expert: bool = True) -> AccountInfo:
        account = self._broker.account
        figures = self._money.figures()
        return AccountInfo(
            account.login, c.ACCOUNT_TRADE_MODE_DEMO, account.leverage, account.limit_orders,
            c.ACCOUNT_STOPOUT_MODE_PERCENT, account.trade_allowed, trade_expert, account.margin_mode, 2, False,
            figures.balance, figures.credit, figures.profit, figures.equity, figures.margin, figures.margin_free,
            figures.margin_level, 50.0, 30.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            account.name, account.server, account.currency, account.company,
        )  # fmt: skip

    def terminal_info(self, *, algo_trading: bool, data_dir: Path | None, connected: bool = True) -> TerminalInfo:
        company = self._broker.account.company
        path = str(data_dir) if data_dir is not None else "simulated"
        return TerminalInfo(
            False, False, connected, False, algo_trading, False, False, False, False, False,
            TERMINAL_BUILD, 100_000, 0, 12_000, 0.0, 0.0, company, f"{company} MetaTrader 5", "English",
            path, path, path,
        )  # fmt: skip

    # --- open positions and orders ---------------------------------------------------------------------

    def positions(self, selected: Iterable[int] | None = None, *, symbols: Callable[[str], bool] | None = None
                  ) -> tuple[TradePosition, ...]:  # fmt: skip
        """Open positions (all, the given tickets, or those whose symbol passes ``symbols``) with current
        price and profit. A few positions are valued one by one, many in bulk."""
        broker = self._broker
        if selected is None and symbols is not None:
            groups = [group for name, group in broker.by_symbol.items() if group and symbols(name)]
            if sum(map(len, groups)) <= _ONE_BY_ONE:
                wanted = {ticket for group in groups for ticket in group}
                selected = [ticket for ticket in broker.positions if ticket in wanted]  # in opening order
        if selected is None:
            return broker.table.rows(self._money.prices(broker.table.symbols()), symbols)
        chosen = [broker.positions[t] for t in selected if t in broker.positions]
        prices = self._money.prices({p.symbol for p in chosen})
        return tuple(p.to_struct(*position_profit(p, *prices[p.symbol])) for p in chosen)

    def orders(self, selected: Iterable[int] | None = None, *, symbols: Callable[[str], bool] | None = None
               ) -> tuple[TradeOrder, ...]:  # fmt: skip
        broker = self._broker
        if selected is not None:
            chosen = [broker.orders[t] for t in selected if t in broker.orders]
        else:
            chosen = [o for o in broker.orders.values() if symbols is None or symbols(o.symbol)]
        result = []
        for order in chosen:
            quote = self._market.quote(order.symbol)
            buy = order.type in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT)
            result.append(order.to_struct(quote.ask if buy else quote.bid))
        return tuple(result)
