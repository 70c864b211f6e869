"""``POST /sim/faults``: each kind's parameters documented, and a bad one named in plain words."""

from __future__ import annotations

import httpx
import pytest

from app.runtime import Services
from app.terminal.sim.faults import FAULT_PARAMETERS, FaultKind


def test_every_fault_kind_has_its_parameters_listed() -> None:
    assert {k.value for k in FaultKind} | {"random", "clear"} <= set(FAULT_PARAMETERS)


async def test_the_schema_documents_each_kinds_parameters(api: httpx.AsyncClient) -> None:
    described = (await api.get("/openapi.json")).json()["paths"]["/sim/faults"]["post"]["description"]
    for kind, params in FAULT_PARAMETERS.items():
        assert f"| `{kind}` |" in described
        assert all(f"`{name}`:" in described for name in params)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "block", "count": 3}, "count", "fault kind block does not take count (it takes seconds, function)"),
        ({"kind": "algo_disabled", "seconds": 1}, "seconds", "does not take seconds (it takes no parameter)"),
        ({"kind": "block", "seconds": 9999}, "seconds", "less than or equal to 600"),
        ({"kind": "retcode", "retcode": 10004, "executed": True}, "executed", "only meaningful for retcode 10012"),
        ({"kind": "retcode", "retcode": 1}, "retcode", "retcode must be one of"),
        ({"kind": "ipc_timeout", "function": "nope"}, "function", "unknown terminal function 'nope'"),
        ({"kind": "bogus"}, "kind", "unknown fault kind 'bogus'; known: disconnect, ipc_timeout"),
        ({"kind": "bogus", "command": "x"}, "kind", "unknown fault kind 'bogus'"),
        ({"kind": "random", "kinds": ["block"]}, "probability", "random faults need probability"),
        ({"kind": "random", "probability": 0.1, "kinds": ["nope"]}, "kinds", "unknown fault kind in"),
    ],
)
async def test_a_bad_parameter_is_named_in_plain_words(
    ready: Services, api: httpx.AsyncClient, body: dict[str, object], field: str, words: str
) -> None:
    response = await api.post("/sim/faults", json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["field"] == field and words in answer["detail"]
    assert "ValueError" not in answer["detail"] and "(-2" not in answer["detail"]


async def test_random_faults_start_and_clear(ready: Services, api: httpx.AsyncClient) -> None:
    started = await api.post("/sim/faults", json={"kind": "random", "probability": 0.0, "kinds": ["ipc_timeout"]})
    assert started.status_code == 200, started.text
    assert (await api.post("/sim/faults", json={"kind": "clear"})).status_code == 200
