"""The consistency-proof route is thin: the sizes are checked by the pure audit code, and
a request outside the log is an input error (422, the one error shape); a proof inside it
verifies with nothing but hashes."""

from __future__ import annotations

import base64

import pytest

from taxgate.audit.proof import check_proof_sizes, verify_consistency
from taxgate.errors import InputError, http_status
from tests.api.service import Service


@pytest.mark.parametrize(("old", "new", "size"), [(3, 2, 9), (0, 10, 9), (-1, 2, 9), (9, 10, 9)])
def test_sizes_outside_the_log_are_an_input_error(old: int, new: int, size: int) -> None:
    with pytest.raises(InputError) as e:
        check_proof_sizes(old, new, size)
    assert http_status(e.value) == 422 and f"not {old} and {new}" in str(e.value)


@pytest.mark.parametrize(("old", "new"), [(0, 0), (0, 9), (4, 9), (9, 9)])
def test_sizes_inside_the_log_pass(old: int, new: int) -> None:
    check_proof_sizes(old, new, 9)


def test_consistency_route_refuses_in_the_error_shape_and_proves_inside(
    processed: Service,
) -> None:
    svc = processed
    h = svc.h("auditor")
    size = svc.client.get("/v1/audit/head", headers=h).json()["size"]
    assert size > 4
    r = svc.client.get(
        "/v1/audit/proofs/consistency", params={"old_size": 3, "new_size": size + 1}, headers=h
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid" and f"<= {size}, not 3 and {size + 1}" in err["message"]
    r = svc.client.get(
        "/v1/audit/proofs/consistency", params={"old_size": size, "new_size": 3}, headers=h
    )
    assert r.status_code == 422
    doc = svc.client.get(
        "/v1/audit/proofs/consistency", params={"old_size": 3, "new_size": size}, headers=h
    ).json()
    d = base64.b64decode
    verify_consistency(
        3, size, [d(x) for x in doc["proof"]], d(doc["old_root"]), d(doc["new_root"])
    )
