"""schemathesis against the published OpenAPI schema: bounded examples, no 5xx.

Each operation is called with a token of a role it admits (read from its ``x-roles``),
so the generated requests reach the handlers rather than stopping at 401/403.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.errors import Unsatisfiable

from tests.api.service import Kit, Service, open_service, prepare_workdir
from tests.conftest import World

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    schemathesis = pytest.importorskip("schemathesis")  # dev dependency (pyproject: to add)
    GenerationMode = schemathesis.GenerationMode


@pytest.fixture(scope="module")
def schema_service(
    world: World, kit: Kit, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("schema")
    wd = prepare_workdir(world.workdir, tmp / "work")
    with open_service(wd, f"sqlite:///{tmp / 'store.sqlite'}", kit) as svc:
        svc.submit("a1")
        svc.worker().run_until_idle()
        yield svc


@pytest.fixture(scope="module")
def api_schema(schema_service: Service) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return schemathesis.openapi.from_asgi("/v1/openapi.json", schema_service.client.app)


ROLE_ORDER = ("officer", "auditor", "reviewer", "admin", "agency")
EXAMPLES = 12


def _fuzz(op: Any, headers: dict[str, str], mode: Any, calls: list[tuple[str, int]]) -> None:
    from hypothesis import given

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            response = case.call(headers=headers)
        calls.append((op.label, response.status_code))
        assert response.status_code < 500, (op.label, response.status_code)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error"}
            assert body["error"]["status"] == response.status_code

    try:
        run()
    except Unsatisfiable:  # nothing to get wrong (an operation with no parameters)
        assert mode is GenerationMode.NEGATIVE, op.label


def test_no_server_errors(api_schema: Any, schema_service: Service) -> None:
    """Every operation, positive and negative examples, a token of an admitted role."""
    calls: list[tuple[str, int]] = []
    for result in api_schema.get_all_operations():
        op = result.ok()
        roles = op.definition.raw.get("x-roles") or []
        role = next((r for r in ROLE_ORDER if r in roles), None)
        headers = schema_service.h(role) if role else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(op, headers, mode, calls)
    labels = {label for label, _ in calls}
    assert len(labels) >= 25
    assert any(status < 300 for _, status in calls)


def test_schema_is_published_with_roles(schema_service: Service) -> None:
    doc = schema_service.client.get("/v1/openapi.json").json()
    ops = [op for path in doc["paths"].values() for op in path.values()]
    assert len(ops) >= 25
    assert all(op.get("x-roles") for op in ops)
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
