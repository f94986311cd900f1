"""Fuzz targets: each takes arbitrary bytes, feeds them to one parser or verifier taxgate
exposes to outside input, and lets only a :class:`TaxgateError` (a clear, classified refusal)
through. Any other exception is a bug the fuzzer reports.

The same targets run under Hypothesis in ``make test`` (short) and under atheris in
``make fuzz`` (long, coverage-guided), so a crash one finds the other can replay.
"""

from __future__ import annotations

import base64
import copy
import json
import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.audit.checkpoint import parse_note, sign_checkpoint, verifier_key, verify_checkpoint
from taxgate.audit.export import build_export, seen_in, verify_export
from taxgate.audit.proof import verify_consistency, verify_inclusion
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.audit.tree import MerkleTree
from taxgate.disclosure.fields import compile_catalogue
from taxgate.errors import TaxgateError
from taxgate.intake.batch import RawBatch, parse_manifest, read_requests
from taxgate.rules.rulebook import compile_rulebook
from taxgate.rules.statutes import compile_statutes

DATA = Path(__file__).resolve().parents[2] / "src" / "taxgate" / "data"
ORIGIN = "fuzz.example/taxgate-audit"

Target = Callable[[bytes], None]


@cache
def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@cache
def _verifier() -> str:
    return verifier_key(ORIGIN, _key().public_key())


@cache
def _export() -> dict[str, Any]:
    entries = [f"entry {i}".encode() for i in range(7)]
    tree = MerkleTree(b"".join(leaf_hash(e) for e in entries))
    cps = [sign_checkpoint(ORIGIN, n, tree.root(n), 1_700_000_000 + n, _key()) for n in (3, 7)]
    return build_export(ORIGIN, _verifier(), entries, cps)


@cache
def _yaml(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _rng(data: bytes) -> random.Random:
    return random.Random(data)


JSONISH: tuple[Any, ...] = (
    None, True, False, 0, -1, 2**63, 2**200, 1e308, float("nan"), "", "x" * 10_000, "\x00",
    "=cmd|' /C calc'!A0", "'; DROP TABLE decisions; --", "../../etc/passwd", "<script>",
    [], {}, [[[[[]]]]], {"a": {"b": {"c": {}}}}, "off", "review", "refuse", "2099-13-45",
)  # fmt: skip


KEYS = (
    "extra",
    "",
    "\x00",
    "'; DROP TABLE x; --",
    "../../etc/passwd",
    "<b>",
    "x" * 5000,
    "R-ADDRESS",
)


def mutate(doc: Any, data: bytes, rounds: int = 3) -> Any:
    """A copy of ``doc`` with a few nested values replaced, deleted or retyped, chosen by
    ``data`` (deterministic, so a crash replays from its bytes)."""
    rng = _rng(data)
    out = copy.deepcopy(doc)
    for _ in range(rng.randint(1, rounds)):
        node, path = out, []
        while isinstance(node, (dict, list)) and node and rng.random() < 0.75:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append((node, key))
            node = node[key]
        if not path:
            return rng.choice(JSONISH)
        parent, key = path[-1]
        action = rng.random()
        if action < 0.2 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.3 and isinstance(parent, dict):
            parent[rng.choice(KEYS)] = rng.choice(JSONISH)
        else:
            parent[key] = copy.deepcopy(rng.choice(JSONISH))
    return out


def checkpoint_text(data: bytes) -> None:
    """Any text offered as a signed checkpoint."""
    text = _text(data)
    if text.startswith("{"):
        return
    verify_checkpoint(text, _key().public_key(), ORIGIN)


def note_text(data: bytes) -> None:
    parse_note(_text(data))


def seen_file(data: bytes) -> None:
    """Any file given to ``audit verify --since``."""
    seen_in(_text(data), _verifier())


def export_json(data: bytes) -> None:
    """Any JSON document given as an audit export."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return
    if isinstance(doc, dict):
        verify_export(doc, _verifier())


def export_mutated(data: bytes) -> None:
    """A real export with a few values changed: refused cleanly, or, when it verifies, every
    entry a checkpoint in it covers is the original entry (a change inside the signed part of
    the log never verifies)."""
    doc = mutate(_export(), data)
    if not isinstance(doc, dict):
        return
    try:
        verify_export(doc, _verifier())
    except TaxgateError:
        return
    covered = max(
        (
            verify_checkpoint(str(t), _key().public_key(), ORIGIN).size
            for t in doc.get("checkpoints", [])
        ),
        default=0,
    )
    assert doc.get("entries", [])[:covered] == _export()["entries"][:covered], (
        "a changed entry verified"
    )


def proofs(data: bytes) -> None:
    """Arbitrary sizes, indexes and hashes to the RFC 9162 proof verifiers."""
    rng = _rng(data)
    big = (0, 1, 2, 3, 7, 8, 2**31, 2**63, -1, -(2**63), rng.randrange(1 << 70))
    size, index = rng.choice(big), rng.choice(big)
    hashes = [rng.randbytes(rng.choice((32, 32, 32, 0, 31, 33))) for _ in range(rng.randrange(70))]
    root = rng.randbytes(rng.choice((32, 16)))
    verify_inclusion(rng.randbytes(32), index, size, hashes, root)
    raise AssertionError("a random inclusion proof verified")


def consistency(data: bytes) -> None:
    rng = _rng(data)
    big = (0, 1, 2, 3, 7, 8, 2**31, 2**63, -1, rng.randrange(1 << 70))
    size1, size2 = rng.choice(big), rng.choice(big)
    hashes = [rng.randbytes(rng.choice((32, 32, 0, 33))) for _ in range(rng.randrange(70))]
    root1, root2 = rng.randbytes(32), rng.randbytes(32)
    if size1 == size2 == 0 or (size1 == 0 and size2 > 0):
        return  # the empty tree is a prefix of every tree: such proofs verify by design
    verify_consistency(size1, size2, hashes, root1, root2)
    raise AssertionError("a random consistency proof verified")


def rulebook(data: bytes) -> None:
    compile_rulebook(mutate(_yaml("rulebook.yaml"), data), "fuzz-rulebook.yaml")


def rulebook_yaml(data: bytes) -> None:
    try:
        doc = yaml.safe_load(_text(data))
    except (yaml.YAMLError, RecursionError):
        return
    compile_rulebook(doc if isinstance(doc, dict) else {"x": doc}, "fuzz-rulebook.yaml")


def catalogue(data: bytes) -> None:
    compile_catalogue(mutate(_yaml("fields.yaml"), data), source="fuzz-fields.yaml")


def statutes(data: bytes) -> None:
    compile_statutes(mutate(_yaml("statutes.yaml"), data), "fuzz-statutes.yaml")


MANIFEST = {
    "batch_id": "B-1",
    "agency": "DHS-ICE",
    "submitted_at": "2026-01-05T10:00:00Z",
    "official": "Jane Doe",
    "requests_sha256": "0" * 64,
    "signature": base64.b64encode(b"\0" * 64).decode(),
}


def manifest(data: bytes) -> None:
    doc = mutate(MANIFEST, data)
    if isinstance(doc, dict):  # read_raw refuses anything else before parse_manifest
        parse_manifest(RawBatch(Path("/nonexistent/batch"), doc, b""))


def requests_csv(data: bytes) -> None:
    """Any bytes as requests.csv."""
    read_requests(RawBatch(Path("/nonexistent/batch"), dict(MANIFEST), data))


TARGETS: dict[str, Target] = {
    "checkpoint": checkpoint_text,
    "note": note_text,
    "seen": seen_file,
    "export-json": export_json,
    "export-mutated": export_mutated,
    "inclusion": proofs,
    "consistency": consistency,
    "rulebook": rulebook,
    "rulebook-yaml": rulebook_yaml,
    "catalogue": catalogue,
    "statutes": statutes,
    "manifest": manifest,
    "requests-csv": requests_csv,
}


def run(name: str, data: bytes) -> None:
    """Run one target; a :class:`TaxgateError` is a clean refusal, anything else escapes."""
    try:
        TARGETS[name](data)
    except TaxgateError:
        pass
