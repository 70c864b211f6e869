"""``/sim/...``: drive the simulated terminal over HTTP (registered only when the terminal is the simulator).

Orders go through the terminal's own ``order_send`` and are answered as MT5 answers them (an
``OrderSendResult`` as a dict, whatever its retcode); a request the terminal refuses outright (``None``
with ``last_error``) is a 422 naming the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from app.api import schemas
from app.api.deps import Facade, errors
from app.api.sim import SimFacade
from app.terminal.sim.faults import FAULT_PARAMETERS

router = APIRouter(prefix="/sim", tags=["simulator"])

OrderRequest = Annotated[
    schemas.SimOrderRequest,
    Body(
        examples=[{"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 1}],
        description="the request dict as MetaTrader5.order_send takes it",
    ),
]


def _sim(facade: Facade) -> SimFacade:
    return SimFacade(facade.services.gateway)


@router.post("/order_send", responses=errors(413, 415, 422, 503))
async def order_send(request: OrderRequest, facade: Facade) -> dict[str, Any]:
    """Send a trade request to the simulated terminal; the answer is its ``OrderSendResult`` as a dict."""
    return await _sim(facade).order_send(request)


@router.get("/positions", responses=errors(503))
async def positions(facade: Facade) -> list[dict[str, Any]]:
    """Every open position as a ``TradePosition`` dict."""
    return await _sim(facade).positions()


@router.get("/ticks", response_model=schemas.SimTicksResponse, responses=errors(503))
async def ticks(facade: Facade) -> schemas.SimTicksResponse:
    """Bid and ask of every symbol."""
    return await _sim(facade).ticks()


@router.post("/ticks", response_model=schemas.SimQuote, responses=errors(413, 415, 422, 503))
async def set_tick(body: schemas.SimTickPost, facade: Facade) -> schemas.SimQuote:
    """Hold a symbol's price at ``bid``/``ask`` until the next post; ``mode: "live"`` hands it back to the market."""
    return await _sim(facade).set_tick(body)


def _faults_description() -> str:
    """Each kind with its parameters, from the simulator's own table (so a new kind is documented with it)."""
    lines = [
        'Arm a simulated terminal fault, start random faults (`kind: "random"`) or remove them all '
        '(`kind: "clear"`). Answers the faults now armed. A parameter the kind does not take, or a value '
        "the simulator refuses, is a 422 naming that parameter.",
        "",
        "| kind | parameters |",
        "| --- | --- |",
    ]
    for kind, params in FAULT_PARAMETERS.items():
        described = "<br>".join(f"`{name}`: {meaning}" for name, meaning in params.items()) or "none"
        lines.append(f"| `{kind}` | {described} |")
    return "\n".join(lines)


@router.post("/faults", responses=errors(413, 415, 422, 503), description=_faults_description())
async def faults(
    body: Annotated[
        schemas.SimFaultPost,
        Body(
            examples=[
                {"kind": "block", "seconds": 2.0},
                {"kind": "retcode", "retcode": 10004, "count": 2},
                {"kind": "clear"},
            ]
        ),
    ],
    facade: Facade,
) -> dict[str, Any]:
    return await _sim(facade).fault(body)
