"""Account money: profit and margin of positions in the account currency, and the account's figures.

Profit accrues in a symbol's profit currency and is converted at the current rate (USDJPY profit is in
JPY, so it is divided by the USDJPY price). Margin follows the symbol's margin currency: forex-style
(margin currency = base currency) is volume x contract / leverage in the base currency; otherwise volume x
contract x price / leverage; a fixed ``margin_initial`` per lot overrides both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim.broker import Broker

if TYPE_CHECKING:
    from app.terminal.sim.market.core import Market
    from app.terminal.sim.symbols import SymbolSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountFigures:
    balance: float
    credit: float
    profit: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float


def margin_level(equity: float, margin: float) -> float:
    return round(equity / margin * 100.0, 2) if margin > 0 else 0.0


class Money:
    def __init__(self, market: Market, broker: Broker) -> None:
        self._market = market
        self._broker = broker
        self._unconvertible: set[str] = set()

    @property
    def currency(self) -> str:
        return self._broker.account.currency

    def rate(self, currency: str) -> float:
        """Account-currency value of one unit of ``currency`` at the current bid."""
        account = self.currency
        if currency == account:
            return 1.0
        for name, spec in self._market.symbols.items():
            if spec.currency_base == currency and spec.currency_profit == account:
                return self._market.quote(name).bid
            if spec.currency_base == account and spec.currency_profit == currency:
                return 1.0 / self._market.quote(name).bid
        if currency not in self._unconvertible:
            self._unconvertible.add(currency)
            logger.warning("no symbol converts %s to %s; counting it 1:1", currency, account)
        return 1.0

    def profit(self, spec: SymbolSpec, order_type: int, volume: float, price_open: float, price_close: float) -> float:
        """Profit of ``volume`` lots opened at ``price_open`` and closed at ``price_close`` (not rounded)."""
        move = price_close - price_open if order_type == c.ORDER_TYPE_BUY else price_open - price_close
        return move * volume * spec.trade_contract_size * self.rate(spec.currency_profit)

    def margin(self, spec: SymbolSpec, volume: float, price: float) -> float:
        """Margin ``volume`` lots take at ``price`` (not rounded)."""
        leverage = max(self._broker.account.leverage, 1)
        if spec.margin_initial > 0:
            amount = volume * spec.margin_initial
        elif spec.currency_margin == spec.currency_base:
            amount = volume * spec.trade_contract_size / leverage
        else:
            amount = volume * spec.trade_contract_size * price / leverage
        return amount * self.rate(spec.currency_margin)

    def prices(self, symbols: Iterable[str]) -> dict[str, tuple[float, float, float]]:
        """Per symbol: bid, ask and the account-currency profit of one lot moving one price unit."""
        prices = {}
        for name in symbols:
            spec = self._market.symbols[name]
            quote = self._market.quote(name)
            prices[name] = (quote.bid, quote.ask, spec.trade_contract_size * self.rate(spec.currency_profit))
        return prices

    def _exposure(self) -> tuple[float, float]:
        """Floating profit (not rounded per position) and used margin, from the per-symbol sums: O(symbols)."""
        profit = margin = 0.0
        for symbol, exposure in self._broker.exposure.items():
            if exposure.count == 0:
                continue
            spec = self._market.symbols[symbol]
            quote = self._market.quote(symbol)
            points = (quote.bid * exposure.buy_volume - exposure.buy_notional) + (
                exposure.sell_notional - quote.ask * exposure.sell_volume
            )
            profit += points * spec.trade_contract_size * self.rate(spec.currency_profit)
            margin += self.margin(spec, exposure.buy_volume, quote.ask)
            margin += self.margin(spec, exposure.sell_volume, quote.bid)
        return profit, margin

    def free_margin(self) -> float:
        """Free margin for the server's own checks (opening, filling a pending order), from the sums."""
        account = self._broker.account
        profit, margin = self._exposure()
        return account.balance + account.credit + profit - margin

    def figures(self, *, extra_margin: float = 0.0) -> AccountFigures:
        """The account's figures now, its profit the sum of the positions' rounded profits; ``extra_margin``
        projects an order that would add (or free) margin."""
        account = self._broker.account
        table = self._broker.table
        profit = round(table.total_profit(self.prices(table.symbols())), 2)
        margin = round(max(self._exposure()[1] + extra_margin, 0.0), 2)
        equity = round(account.balance + account.credit + profit, 2)
        return AccountFigures(
            balance=account.balance,
            credit=account.credit,
            profit=profit,
            equity=equity,
            margin=margin,
            margin_free=round(equity - margin, 2),
            margin_level=margin_level(equity, margin),
        )
