"""Short fuzz runs in ``make test``: every parser and verifier that reads outside input
either accepts it or refuses it with a TaxgateError (a clear error), never another exception.
``make fuzz`` runs the same targets for longer under atheris (coverage-guided)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS, run

CORPUS = Path(__file__).parent / "corpus"

# bytes that look like each input a little, so the short runs reach past the first check
SEEDS = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(str.encode),
    st.sampled_from([p.read_bytes() for p in sorted(CORPUS.glob("*/*")) if p.is_file()] or [b""]),
)


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=SEEDS)
def test_target_refuses_cleanly(name: str, data: bytes) -> None:
    run(name, data)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CORPUS.glob("*/*") if p.is_file()),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_corpus_file(path: Path) -> None:
    """Every file kept in the corpus (hostile inputs and any crash a fuzzer once found) runs
    clean on the target named by its folder."""
    run(path.parent.name, path.read_bytes())
