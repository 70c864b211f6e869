"""Bounded fuzzing of every route that takes input: whatever arrives, the answer is never a 5xx.

Bodies are arbitrary JSON (NaN and infinities included, as Python's JSON writes them), registration-shaped
objects whose values are arbitrary, or bytes that are not JSON at all; paths and queries get arbitrary text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.runtime import Services

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

REGISTRATION_KEYS = (
    "ticket",
    "symbol",
    "direction",
    "entry",
    "entry_price",
    "volume",
    "stop_loss",
    "sl",
    "take_profit",
    "tp",
    "strategy_type",
    "magic",
    "comment",
)
shaped = st.dictionaries(
    st.sampled_from(REGISTRATION_KEYS),
    json_values | st.sampled_from(["BUY", "sell", "EURUSD", 1.0857, 0, -1, 2**63, 1]),
    max_size=len(REGISTRATION_KEYS),
)
sim_shaped = st.dictionaries(
    st.sampled_from(
        [
            "action",
            "symbol",
            "volume",
            "type",
            "price",
            "sl",
            "tp",
            "bid",
            "ask",
            "mode",
            "position",
            "type_filling",
            "deviation",
        ]
    ),
    json_values | st.sampled_from(["EURUSD", "live", 1, 0.1, 1.2]),
    max_size=8,
)

POSTS = ("/dtms/trade/enable", "/dtms/trade/disable", "/sim/order_send", "/sim/ticks", "/dtms/initialize")
GETS = ("/dtms/trade/{}", "/trade-registry/{}", "/dtms/actions?limit={}", "/events?since={}")

bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()),
    sim_shaped.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
requests = st.one_of(
    st.tuples(st.just("POST"), st.sampled_from(POSTS), bodies),
    st.tuples(st.just("POST"), st.just("/sim/faults"), json_values.map(lambda v: json.dumps(v).encode())),
    st.tuples(st.just("GET"), st.sampled_from(GETS), st.text(max_size=30).map(lambda t: t.encode())),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
async def test_no_input_makes_a_server_error(
    ready: Services, api: httpx.AsyncClient, request: tuple[str, str, bytes]
) -> None:
    method, path, payload = request
    if method == "GET":
        text = payload.decode()
        if path.startswith("/events") and text.isdigit():
            return  # a valid replay position opens a stream that never ends
        response = await api.get(path.format(quote(text, safe="")))
    else:
        response = await api.post(path, content=payload, headers={"Content-Type": "application/json"})
    assert response.status_code < 500, (method, path, payload, response.text)
    body: Any = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error", "detail", "field"}
