"""An overseer's witness holds the agency to one history (issue 13, item 2), on both stores:
cosignatures kept with checkpoints, carried by exports and checked by `audit verify`; a
rollback or a fork of the store refused by the witness, through the CLI and over HTTP;
and with the rulebook's publish-before-disclose, no response before a cosignature."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import delete, select, update

from taxgate import pipeline
from taxgate.audit.checkpoint import sign_checkpoint, verifier_key
from taxgate.audit.export import cosigned_sizes
from taxgate.audit.witness import request_body
from taxgate.errors import AuditError, ConflictError
from taxgate.overseer.app import create_witness_app
from taxgate.overseer.witness import WitnessHome
from taxgate.rules.rulebook import PACKAGE_DATA
from taxgate.services import batches
from taxgate.services.witnessing import cosign_latest
from taxgate.storage import audit_log
from taxgate.storage import tables as m
from taxgate.workspace import Workspace
from tests.api.service import TestClient
from tests.conftest import taxgate
from tests.integrity.conftest import Site, read_rows

NAME = "oig.example/w1"


def _witness(site: Site) -> WitnessHome:
    pub = site.ws().agency_key().public_key()
    log_key = verifier_key(audit_log.KEY_NAME, pub)
    return WitnessHome.create(site.root / "witness", NAME, {audit_log.ORIGIN: log_key})


def _new_batch(site: Site, name: str, n: int = 20) -> Path:
    rows = [{**r, "request_id": f"{name}-{r['request_id']}"} for r in read_rows(site.world.batch)]
    return site.batch(name, rows[:n])


def _roll_back(site: Site, size: int) -> None:
    """What an insider with database access does: drop the log's tail and its checkpoints."""
    with site.ws().transaction() as (s, _):
        s.execute(delete(m.AuditEntry).where(m.AuditEntry.idx >= size))
        s.execute(delete(m.Checkpoint))
        s.execute(
            update(m.Setting).where(m.Setting.key == audit_log.HEAD_KEY).values(value=str(size))
        )


def _checkpoint(site: Site) -> int:
    ws = site.ws()
    with ws.transaction() as (s, _):
        audit_log.checkpoint_now(s, ws.agency_key())
        return audit_log.log_size(s)


def test_cosigned_then_rollback_and_fork_refused(site: Site) -> None:
    home = _witness(site)
    ws = site.ws()
    site.process(site.world.batch)
    first = cosign_latest(ws, str(home.folder), home.verifier_key)
    with ws.transaction() as (s, _):
        texts = audit_log.checkpoint_texts(s)
        audit_log.verify_log(s, ws.agency_key().public_key())  # a cosignature breaks nothing
    assert cosigned_sizes(texts, [home.verifier_key]) == {NAME: first.size}
    assert home.held(audit_log.ORIGIN).size == first.size  # type: ignore[union-attr]
    # the log grows: the next checkpoint is cosigned from the last (a consistency proof)
    site.process(_new_batch(site, "grow"))
    second = cosign_latest(ws, str(home.folder), home.verifier_key)
    assert second.size > first.size
    # rollback: the store restored to before the second batch
    _roll_back(site, first.size)
    assert _checkpoint(site) == first.size
    with pytest.raises(AuditError, match="refused"):
        cosign_latest(ws, str(home.folder), home.verifier_key)
    # fork: from there, another history grows past what the witness saw
    site.process(_new_batch(site, "fork", 50))
    assert _checkpoint(site) > second.size
    with pytest.raises(AuditError, match="HTTP 422"):
        cosign_latest(ws, str(home.folder), home.verifier_key)
    assert home.held(audit_log.ORIGIN).size == second.size  # type: ignore[union-attr]


def test_witness_through_the_command_line(site: Site) -> None:
    ws = site.ws()
    vkey = verifier_key(audit_log.KEY_NAME, ws.agency_key().public_key())
    wdir = site.root / "cli-witness"
    site.process(site.world.batch)
    made = taxgate("witness", "init", "--dir", wdir, "--name", NAME, "--log-key", vkey)
    wkey = made.stdout.strip().splitlines()[-1]
    code, out, err = site.cli("audit", "cosign", "--witness", wdir, "--witness-key", wkey)
    assert code == 0 and "cosigned by witness" in out, err
    export = site.root / "export.json"
    assert site.cli("audit", "export", export)[0] == 0
    doc = json.loads(export.read_text())
    assert any(NAME in c for c in doc["checkpoints"])  # the export carries the cosignature
    code, out, err = site.cli("audit", "verify", "--export", export, "--witness-key", wkey)
    assert code == 0 and f"cosigned by witness `{NAME}`" in out, err
    code, out, err = site.cli("audit", "verify", "--witness-key", wkey)
    assert code == 0 and f"cosigned by witness `{NAME}`" in out, err
    # a cosignature line that does not verify is caught by `audit verify`
    # (the cosigned head is not the last: logging the cosignature is an entry, and the
    # command signs the head that covers it)
    k = max(i for i, c in enumerate(doc["checkpoints"]) if NAME in c)
    bad = doc["checkpoints"][k]
    line = next(x for x in bad.splitlines() if NAME in x)
    blob = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    blob[-1] ^= 1  # one bit of the witness's signature
    forged = line.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(blob)).decode()
    doc["checkpoints"][k] = bad.replace(line, forged)
    export.write_text(json.dumps(doc))
    code, out, err = site.cli("audit", "verify", "--export", export, "--witness-key", wkey)
    assert code == 1 and "does not verify" in err
    # the witness, offline, refuses a rollback request (old size 0 after it cosigned)
    with ws.transaction() as (s, _):
        size = audit_log.log_size(s)
        cp = audit_log.latest_checkpoint(s)
    assert cp is not None
    request = site.root / "rollback.txt"
    request.write_text(request_body(0, [], cp.split("\n\n")[0] + "\n\n" + cp.split("\n\n")[1]))
    refused = taxgate("witness", "cosign", request, "--dir", wdir, check=False)
    assert refused.returncode == 1 and "HTTP 409" in refused.stderr, (refused.stderr, size)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def witness_server(site: Site) -> Iterator[tuple[str, WitnessHome]]:
    home = _witness(site)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_witness_app(home), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", home
    server.should_exit = True
    thread.join(5)


def test_witness_over_http(site: Site, witness_server: tuple[str, WitnessHome]) -> None:
    url, home = witness_server
    ws = site.ws()
    site.process(site.world.batch)
    got = cosign_latest(ws, url, home.verifier_key)
    assert home.held(audit_log.ORIGIN).size == got.size  # type: ignore[union-attr]
    client = TestClient(create_witness_app(home))
    with ws.transaction() as (s, _):
        cp = audit_log.latest_checkpoint(s)
    assert cp is not None
    plain = cp.split("\n\n")[0] + "\n\n" + cp.split("\n\n")[1].splitlines()[0] + "\n"
    rollback = client.post("/add-checkpoint", content=request_body(0, [], plain))
    assert rollback.status_code == 409 and rollback.text == f"{got.size}\n"
    assert rollback.headers["content-type"].startswith("text/x.tlog.size")
    again = client.post("/add-checkpoint", content=request_body(got.size, [], plain))
    assert again.status_code == 200 and again.text.startswith("\u2014 " + NAME)
    # a forged head at the same size: another root

    forged = sign_checkpoint(
        audit_log.ORIGIN, got.size, b"\x07" * 32, 1, ws.agency_key(), audit_log.KEY_NAME
    )
    fork = client.post("/add-checkpoint", content=request_body(got.size, [], forged))
    assert fork.status_code == 409 and "fork" in fork.text


def test_publish_before_disclose(site: Site) -> None:
    home = _witness(site)
    config = site.root / "config"
    shutil.copytree(PACKAGE_DATA, config)
    rb = (config / "rulebook.yaml").read_text(encoding="utf-8")
    rb = rb.replace(
        "  publish_before_disclose: false\n  witnesses: []\n",
        f'  publish_before_disclose: true\n  witnesses: ["{home.verifier_key}"]\n',
    )
    (config / "rulebook.yaml").write_text(rb, encoding="utf-8")
    ws = Workspace.open(site.workdir, config=config, user="tester")
    site.opened.append(ws)
    out = site.root / "out-held"
    result = pipeline.process(ws, site.world.batch, out)
    assert result.disclosed > 0 and "publish before disclose" in result.held
    assert (out / "decisions.jsonl").is_file() and not (out / "response.jsonl").exists()
    with pytest.raises(ConflictError, match="held"):
        batches.response(ws, result.batch_id)
    cosign_latest(ws, str(home.folder), home.verifier_key)
    again = pipeline.process(ws, site.world.batch, out)  # a rerun answers from the store
    assert again.held == "" and again.disclosed == result.disclosed
    lines = (out / "response.jsonl").read_text().splitlines()
    assert len(lines) == result.disclosed
    assert batches.response(ws, result.batch_id)["count"] == result.disclosed
    with ws.transaction() as (s, _):
        events = s.scalars(select(m.AuditEntry.event_type)).all()
    assert "checkpoint_cosigned" in events
