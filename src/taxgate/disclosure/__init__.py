"""Disclosure: the field catalogue with provenance, the pure plan of what goes out, the response.

``fields``    fields.yaml -> validated :class:`~taxgate.disclosure.fields.Catalogue`
``plan``      pure: (request fields, years, status, taxpayer rows, catalogue) -> Plan
``response``  response.jsonl and its Ed25519-signed manifest, written and verified
"""

from taxgate.disclosure.fields import Catalogue, FieldSpec, load_catalogue
from taxgate.disclosure.plan import Plan, plan_disclosure
from taxgate.disclosure.response import (
    key_id_for,
    response_line,
    verify_response,
    write_response,
)

__all__ = [
    "Catalogue",
    "FieldSpec",
    "Plan",
    "key_id_for",
    "load_catalogue",
    "plan_disclosure",
    "response_line",
    "verify_response",
    "write_response",
]
