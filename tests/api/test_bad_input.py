"""Bad requests get a clear error with a real status code, never a 500 (the engine need not be running)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.runtime import Services
from tests.api.conftest import client_for

VALID = {"ticket": 123, "symbol": "EURUSD", "direction": "BUY"}


@pytest.fixture
async def client(idle: Services, make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app(idle, max_body_bytes=4096)) as client:
        yield client


def _json(text: str) -> dict[str, Any]:
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize("body", ['{"ticket": 1,', "{bad}", "", "\x00", '{"ticket": 1} trailing', "[1, 2"])
async def test_malformed_json_is_a_400_naming_the_problem(client: httpx.AsyncClient, body: str) -> None:
    response = await client.post("/dtms/trade/enable", **_json(body) if body else {"json": None})
    if not body:
        assert response.status_code == 422
        assert response.json()["detail"] == "a JSON request body is required"
        return
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert response.json()["detail"].startswith("the request body is not valid JSON")


async def test_deeply_nested_json_is_refused_not_crashed(client: httpx.AsyncClient) -> None:
    response = await client.post("/dtms/trade/enable", **_json("[" * 2000 + "]" * 2000))
    assert response.status_code in (400, 422)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ticket": "abc"}, "ticket"),
        ({"ticket": True}, "ticket"),
        ({"ticket": -5}, "ticket"),
        ({"ticket": 0}, "ticket"),
        ({"ticket": 2**63}, "ticket"),
        ({"ticket": 10**40}, "ticket"),
        ({"ticket": 1.5}, "ticket"),
        ({"symbol": "X" * 30}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": 5}, "symbol"),
        ({"direction": "UP"}, "direction"),
        ({"direction": None}, "direction"),
        ({"entry": -1.0}, "entry"),
        ({"entry": "NaN"}, "entry"),
        ({"stop_loss": "Infinity"}, "stop_loss"),
        ({"take_profit": True}, "take_profit"),
        ({"volume": 0}, "volume"),
        ({"volume": -0.1}, "volume"),
        ({"magic": -1}, "magic"),
        ({"magic": 2**64}, "magic"),
        ({"comment": "c" * 30}, "comment"),
    ],
)
async def test_a_wrong_value_is_a_422_naming_the_field(
    client: httpx.AsyncClient, changes: dict[str, object], field: str
) -> None:
    response = await client.post("/dtms/trade/enable", json={**VALID, **changes})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error" and body["field"] == field
    assert field in body["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_non_finite_json_numbers_are_refused(client: httpx.AsyncClient, literal: str) -> None:
    text = f'{{"ticket": 123, "symbol": "EURUSD", "direction": "BUY", "entry": {literal}}}'
    response = await client.post("/dtms/trade/enable", **_json(text))
    assert response.status_code == 422
    assert response.json()["field"] == "entry"


@pytest.mark.parametrize("missing", ["ticket", "symbol", "direction"])
async def test_a_missing_field_is_named(client: httpx.AsyncClient, missing: str) -> None:
    body = {k: v for k, v in VALID.items() if k != missing}
    response = await client.post("/dtms/trade/enable", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == missing


@pytest.mark.parametrize("body", [[1, 2], "text", 5, None])
async def test_a_body_that_is_not_an_object_is_refused(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/dtms/trade/disable", **_json(httpx._content.json_dumps(body)))
    assert response.status_code == 422


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonx", None],
)
async def test_bodies_must_be_json(client: httpx.AsyncClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/dtms/trade/enable", content=b'{"ticket": 123}', headers=headers)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert response.json()["field"] == "Content-Type"


async def test_json_with_a_charset_is_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/dtms/trade/enable", content=b'{"ticket": 0}', headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 422


async def test_a_declared_oversized_body_is_a_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/dtms/trade/enable", json={**VALID, "comment": "x" * 5000})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_an_oversized_chunked_body_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"ticket": 1, "comment": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = await client.post("/dtms/trade/enable", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_a_chunked_body_within_the_limit_is_read(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"ticket": 1, '
        yield b'"symbol": "EURUSD", "direction": "sideways"}'

    response = await client.post("/dtms/trade/enable", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["field"] == "direction"


@pytest.mark.parametrize(
    "path",
    [
        "/dtms/trade/abc",
        "/dtms/trade/0",
        "/dtms/trade/-1",
        f"/dtms/trade/{2**63}",
        "/trade-registry/x",
        f"/trade-registry/{10**30}",
    ],
)
async def test_a_bad_ticket_in_the_path_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert response.json()["field"] == "ticket"


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x"])
async def test_a_bad_query_value_is_a_422(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/dtms/actions?{query}")
    assert response.status_code == 422 and response.json()["field"] == "limit"


async def test_unknown_routes_and_methods_answer_in_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/dtms/nothing")
    wrong = await client.delete("/dtms/trades")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    assert set(missing.json()) == {"error", "detail", "field"}
