"""The bot side of DTMS: register trades with the DTMS endpoint and read their state.

Needs only httpx and pydantic (plus the contract in ``app.api.schemas``); no Qt, nothing of the engine.

    from app.client import auto_register_dtms
    auto_register_dtms(ticket, {"symbol": "EURUSD", "direction": "buy", "entry_price": 1.085, "volume": 0.1})
"""

from app.client.dtms_client import DtmsClient
from app.client.errors import DtmsApiError
from app.client.pool import DEFAULT_API_URL, auth_headers, close_dtms_client
from app.client.registration import auto_register_dtms, register_trade_with_dtms_api, registration_body

__all__ = [
    "DEFAULT_API_URL",
    "DtmsApiError",
    "DtmsClient",
    "auth_headers",
    "auto_register_dtms",
    "close_dtms_client",
    "register_trade_with_dtms_api",
    "registration_body",
]
