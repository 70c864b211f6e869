"""The simulator's side of the facade: orders, positions, prices and faults, through the gateway."""

from __future__ import annotations

from typing import Any

from app.api import schemas
from app.errors import TerminalRequestInvalid, TerminalUnavailable
from app.terminal.retcodes import IPC_ERROR_CODES


def as_dict(value: Any) -> Any:
    """A terminal struct (a NamedTuple, nested ones included) as plain JSON-ready data."""
    if hasattr(value, "_asdict"):
        return {key: as_dict(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: as_dict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_dict(item) for item in value]
    return value


class SimFacade:
    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway

    async def order_send(self, request: dict[str, Any]) -> dict[str, Any]:
        reply = await self._gateway.call("order_send", request)
        if reply.raised is not None:
            raise TerminalRequestInvalid("order_send", -2, reply.raised)
        if reply.value is None:
            code, message = reply.error
            if code in IPC_ERROR_CODES:
                raise TerminalUnavailable(f"order_send: ({code}, {message!r})")
            raise TerminalRequestInvalid("order_send", code, message)
        return as_dict(reply.value)

    async def positions(self) -> list[dict[str, Any]]:
        return [as_dict(p) for p in await self._gateway.positions()]

    async def ticks(self) -> schemas.SimTicksResponse:
        quotes = await self._gateway.control("quotes")
        digits = {name: (await self._gateway.symbol_info(name)).digits for name in quotes}
        return schemas.SimTicksResponse({name: schemas.SimQuote(**quote, digits=digits[name])
                                         for name, quote in quotes.items()})

    async def set_tick(self, body: schemas.SimTickPost) -> schemas.SimQuote:
        if body.mode == "live":
            quote = await self._gateway.control("release_price", symbol=body.symbol)
        else:
            quote = await self._gateway.control("set_price", symbol=body.symbol, bid=body.bid, ask=body.ask)
        info = await self._gateway.symbol_info(body.symbol)
        return schemas.SimQuote(**quote, digits=info.digits)

    async def fault(self, body: schemas.SimFaultPost) -> dict[str, Any]:
        """The faults armed afterwards, as the simulator describes them."""
        if body.kind == "clear":
            return await self._gateway.control("clear_faults")
        params = body.model_dump(exclude={"kind"}, exclude_none=True)
        return await self._gateway.control("inject_fault", kind=body.kind, **params)
