"""The use and redisclosure notice (26 U.S.C. 6103(i)(2)(A) "solely for the use"; penalties
7213, 7213A, 7431; (i)(1) for withheld fields) travels signed in every response manifest:
present, and it cannot be stripped or changed without breaking the signature."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.disclosure.notice import NOTICE
from taxgate.disclosure.response import key_id_for, response_bytes, signed_manifest, verify_lines
from taxgate.errors import InputError

LINES = [{"request_id": "R-1", "fields": {"last_name": "Roe"}, "tax_years": [2023]}]


def test_notice_names_the_use_limit_and_the_penalties() -> None:
    for words in ("solely", "6103(i)(2)(A)", "removal", "7213", "7213A", "7431", "6103(i)(1)",
                  "6103(p)(4)", "redisclosed"):  # fmt: skip
        assert words in NOTICE, words


def test_every_response_manifest_carries_the_notice_under_its_signature() -> None:
    key = Ed25519PrivateKey.generate()
    manifest = signed_manifest("B-1", "DHS-ICE", response_bytes(LINES), 1, key, key_id_for(
        key.public_key()))  # fmt: skip
    assert manifest["notice"] == NOTICE
    assert verify_lines(manifest, LINES, key.public_key()) == 1
    stripped = {k: v for k, v in manifest.items() if k != "notice"}
    with pytest.raises(InputError):
        verify_lines(stripped, LINES, key.public_key())
    changed = {**manifest, "notice": "use it for anything"}
    with pytest.raises(InputError):
        verify_lines(changed, LINES, key.public_key())
