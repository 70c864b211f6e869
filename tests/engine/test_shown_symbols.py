"""Rules of a symbol that is only shown (a closed trade's after a restart): read once from the terminal,
without putting the symbol in Market Watch or fetching its bars, and never made up when the terminal cannot
say."""

from __future__ import annotations

from app.runtime import Services


async def test_a_shown_symbols_rules_are_read_once_and_kept_apart_from_the_managed(ready: Services) -> None:
    market = ready.engine.market
    calls: list[str] = []
    read = ready.gateway.symbol_info

    async def counted(symbol: str):
        calls.append(symbol)
        return await read(symbol)

    ready.gateway.symbol_info = counted  # type: ignore[method-assign]
    assert market.digits("BTCUSD") is None
    rules = await market.learn("BTCUSD")
    assert rules is not None and rules.digits == 2 and market.digits("BTCUSD") == 2
    assert await market.learn("BTCUSD") is rules and calls == ["BTCUSD"], "read once"
    assert "BTCUSD" not in market.symbols() and market.get("BTCUSD") is None, "shown, not managed: no bars"


async def test_a_symbol_the_terminal_does_not_know_stays_unknown(ready: Services) -> None:
    assert await ready.engine.market.learn("NOSUCH") is None
    assert ready.engine.market.digits("NOSUCH") is None
