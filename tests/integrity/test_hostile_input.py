"""The hostile requests.csv corpus through the pipeline, the command line and the service:
every refusal names file, row and column and no cell's content reaches the terminal, the
API's body or any audit log entry (the permanent log can never be cleaned afterwards)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxgate.errors import InputError
from taxgate.storage.audit_log import all_entries
from tests.hostile_input import SENTINEL, Case, cases
from tests.integrity.conftest import Site, sign_folder

CASES = {c.name: c for c in cases(unique_ids=True)}
#: Cases also run through the real command line (each run costs about two seconds).
CLI_CASES = (
    "no-header-latin1",
    "extra-columns",
    "latin1-in-a-cell",
    "huge-field",
    "formula-and-markup",
)


def _folder(site: Site, case: Case) -> Path:
    folder = site.root / f"hostile-{case.name}"
    folder.mkdir()
    manifest = json.loads((site.world.batch / "manifest.json").read_text())
    manifest |= {"batch_id": f"HOSTILE-{case.name}", "requests_sha256": ""}
    manifest.pop("signature", None)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "requests.csv").write_bytes(case.data)
    sign_folder(folder, site.world.key)  # signed: the refusal comes from reading the rows
    return folder


def _log_text(site: Site) -> bytes:
    with site.ws().transaction() as (s, _):
        return b"\n".join(all_entries(s))


def test_corpus_through_the_pipeline(site: Site) -> None:
    """Every case processed on each store: refused ones are logged by place, not content."""
    before = len(_log_text(site).splitlines())
    refused = 0
    for case in CASES.values():
        folder = _folder(site, case)
        if case.accept is not None:
            if case.accept:
                site.process(folder)
            continue
        with pytest.raises(InputError) as e:
            site.process(folder)
        assert SENTINEL not in str(e.value), case.name
        refused += 1
    log = _log_text(site)
    assert SENTINEL.encode() not in log
    assert SENTINEL.encode("utf-16-le") not in log
    entries = [json.loads(x) for x in log.splitlines()[before:]]
    failures = [e for e in entries if e.get("outcome") == "failure"]
    assert len(failures) == refused  # each refusal is logged once, with where it was
    assert {f["details"]["file"] for f in failures} == {"requests.csv"}
    assert all(
        "row" in f["details"] for f in failures if f["details"]["error"] != "empty: no header"
    )


# the command line's wording does not depend on the store; the pipeline test above runs the
# whole corpus on both
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", CLI_CASES)
def test_corpus_through_the_command_line(site: Site, name: str) -> None:
    case = CASES[name]
    folder = _folder(site, case)
    code, out, err = site.cli("process", folder, "--out", site.root / "out")
    assert SENTINEL not in out and SENTINEL not in err
    if case.accept is not None:
        assert code == 0, err
        return
    assert case.expect is not None
    assert code == 1 and "requests.csv" in err
    if case.expect["row"] is not None:
        assert f"row {case.expect['row']}" in err
    if case.expect["position"] is not None:
        assert f"column {case.expect['position']} (`{case.expect['column']}`)" in err
    assert not (site.root / "out" / "response.jsonl").exists()
    # `check` says the same and stores nothing, not even the refusal
    size = len(_log_text(site).splitlines())
    code, out, err = site.cli("check", folder)
    assert code == 1 and SENTINEL not in out + err
    assert len(_log_text(site).splitlines()) == size
    assert SENTINEL.encode() not in _log_text(site)
