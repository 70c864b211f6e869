"""The simulator's side of the facade: orders, positions, prices and faults, through the gateway."""

from __future__ import annotations

import re
from typing import Any

from fastapi.exceptions import RequestValidationError

from app.api import schemas
from app.errors import TerminalRequestInvalid, TerminalUnavailable
from app.terminal.retcodes import IPC_ERROR_CODES
from app.terminal.sim.faults import FAULT_PARAMETERS

#: the commands of ``POST /sim/faults`` that are not fault kinds, and the simulator control each one runs
_FAULT_COMMANDS = {"clear": "clear_faults", "random": "random_faults"}


def _bad_parameter(name: str, message: str) -> RequestValidationError:
    """A 422 naming ``name`` as the offending field, ``message`` in plain words."""
    return RequestValidationError([{"loc": ("body", name), "msg": message, "type": "value_error"}])


def _offending(message: str, params: dict[str, Any]) -> str | None:
    """The parameter the simulator's message is about: the name it starts with, else the one it mentions."""
    head = re.match(r"[a-z_]+", message)
    if head is not None and (head.group() in params or head.group() == "kind"):
        return head.group()
    for phrase, name in (
        ("unknown fault kind in", "kinds"),
        ("unknown fault kind", "kind"),
        ("terminal function", "function"),
    ):
        if phrase in message:
            return name
    return next((name for name in params if name in message), None)


def _plain_message(error: TerminalRequestInvalid) -> str:
    message = error.message
    for prefix in ("ValueError: ", "TypeError: "):
        message = message.removeprefix(prefix)
    return message


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
        return schemas.SimTicksResponse(
            {name: schemas.SimQuote(**quote, digits=digits[name]) for name, quote in quotes.items()}
        )

    async def set_tick(self, body: schemas.SimTickPost) -> schemas.SimQuote:
        if body.mode == "live":
            quote = await self._gateway.control("release_price", symbol=body.symbol)
        else:
            quote = await self._gateway.control("set_price", symbol=body.symbol, bid=body.bid, ask=body.ask)
        info = await self._gateway.symbol_info(body.symbol)
        return schemas.SimQuote(**quote, digits=info.digits)

    async def fault(self, body: schemas.SimFaultPost) -> dict[str, Any]:
        """The faults armed afterwards, as the simulator describes them. A parameter the kind does not take, or
        a value the simulator refuses, is a 422 naming that parameter."""
        params = body.params()
        takes = FAULT_PARAMETERS.get(body.kind)
        if takes is None:
            raise _bad_parameter("kind", f"unknown fault kind {body.kind!r}; known: {', '.join(FAULT_PARAMETERS)}")
        for name in sorted(params):
            if name not in takes:
                listed = ", ".join(takes) or "no parameter"
                raise _bad_parameter(name, f"fault kind {body.kind} does not take {name} (it takes {listed})")
        command = _FAULT_COMMANDS.get(body.kind, "inject_fault")
        if command == "random_faults":
            for required in ("probability", "kinds"):
                if required not in params:
                    raise _bad_parameter(required, f"random faults need {required}: {takes[required]}")
            params.setdefault("seed", 0)
        elif command == "inject_fault":
            params["kind"] = body.kind
        try:
            return await self._gateway.control(command, **params)
        except TerminalRequestInvalid as error:
            message = _plain_message(error)
            named = _offending(message, params)
            if named is None:
                raise RequestValidationError([{"loc": ("body",), "msg": message, "type": "value_error"}]) from None
            raise _bad_parameter(named, message) from None
