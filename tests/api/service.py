"""A service over a copy of the test world, on a chosen store, for the API and web tests.

The world's records, model and keys are copied; the store is fresh (SQLite or a new
PostgreSQL database), with the world's official registered for its agency, a second
agency with its own official, and one user per role.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxgate.intake.signing import generate_key, load_private_key, load_public_key, sign_manifest
from taxgate.server import create_app
from taxgate.services.officials import record_official
from taxgate.services.users import add_user
from taxgate.services.worker import Worker
from taxgate.settings import ServiceSettings
from taxgate.storage.audit_log import AuditLog
from taxgate.storage.db import Store
from taxgate.workspace import Workspace

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what the project has
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OTHER_AGENCY = "OTHER-AG"
ROLES = ("agency", "officer", "reviewer", "auditor", "admin")


@dataclass(frozen=True)
class Kit:
    """Batches drawn from the world's records, ready to submit (files, not yet stored)."""

    root: Path
    agency: str
    official: str
    key: Path
    other_key: Path
    batches: dict[str, Path]  # name -> folder

    def files(self, name: str) -> dict[str, tuple[str, bytes, str]]:
        folder = self.batches[name]
        return {
            "manifest": (
                "manifest.json",
                (folder / "manifest.json").read_bytes(),
                "application/json",
            ),
            "requests": ("requests.csv", (folder / "requests.csv").read_bytes(), "text/csv"),
        }

    def manifest(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.batches[name] / "manifest.json").read_text())
        return data


def make_kit(world_root: Path, world_key: Path, root: Path, size: int = 60) -> Kit:
    """Three small batches cut from the world's batch: two for its agency, one for another.

    Request ids are renamed after each new batch id, so the three never share a request.
    """
    root.mkdir(parents=True, exist_ok=True)
    source = world_root / "batch"
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    agency, official = manifest["agency"], manifest["official"]["name"]
    with (source / "requests.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    other_key = root / "other.key"
    generate_key(other_key)
    batches: dict[str, Path] = {}
    for n, (name, ag, key) in enumerate(
        (("a1", agency, world_key), ("a2", agency, world_key), ("b1", OTHER_AGENCY, other_key))
    ):
        batch_id = f"SVC-{name.upper()}-{manifest['batch_id']}"
        folder = root / name
        folder.mkdir()
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
        w.writeheader()
        for i, row in enumerate(rows[n * size : (n + 1) * size]):
            w.writerow({**row, "request_id": f"{batch_id}-{i:05d}"})
        data = buf.getvalue().encode("utf-8")
        (folder / "requests.csv").write_bytes(data)
        unsigned = {**manifest, "batch_id": batch_id, "agency": ag}
        signed = sign_manifest(unsigned, data, load_private_key(key))
        (folder / "manifest.json").write_text(json.dumps(signed, indent=2), encoding="utf-8")
        batches[name] = folder
    return Kit(root, agency, official, world_key, other_key, batches)


@dataclass
class Service:
    ws: Workspace
    client: TestClient
    tokens: dict[str, str]
    kit: Kit
    other_agency_token: str
    settings: ServiceSettings
    extra: dict[str, Any] = field(default_factory=dict)

    def h(self, role: str) -> dict[str, str]:
        token = self.other_agency_token if role == "other-agency" else self.tokens[role]
        return {"Authorization": f"Bearer {token}"}

    def web(self, role: str) -> str:
        """Sign ``role`` in on the pages (the client keeps the session cookie); the session's
        form token, read from a page as a browser would."""
        token = self.other_agency_token if role == "other-agency" else self.tokens[role]
        self.client.cookies.clear()
        r = self.client.post("/web/login", data={"token": token}, follow_redirects=False)
        assert r.status_code == 303, r.text
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/web").text)
        assert found is not None
        return found.group(1)

    def submit(self, name: str, role: str = "agency") -> Any:
        return self.client.post("/v1/batches", files=self.kit.files(name), headers=self.h(role))

    def worker(self, **kw: Any) -> Worker:
        return Worker(self.ws, self.settings, **kw)


def prepare_workdir(template: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for part in ("records", "model", "keys"):
        if (template / part).exists():
            shutil.copytree(template / part, dest / part)
    return dest


@contextmanager
def open_service(
    workdir: Path, url: str, kit: Kit, settings: ServiceSettings | None = None
) -> Iterator[Service]:
    """The app over ``workdir`` and the store at ``url``; the worker runs only on demand."""
    settings = settings or ServiceSettings(
        worker=False, stale_seconds=30, heartbeat_seconds=0.2, login_burst=10**6
    )
    ws = Workspace.open(workdir, user="taxgate-service", origin="api")
    ws._store = Store(url)
    with ws.store.session() as s:
        log = AuditLog(s, user="test-setup", origin="test")
        record_official(
            s,
            log,
            kit.agency,
            kit.official,
            "Director",
            load_public_key(Path(f"{kit.key}.pub")),
            "agency-head",
        )
        record_official(
            s,
            log,
            OTHER_AGENCY,
            kit.official,
            "Director",
            load_public_key(Path(f"{kit.other_key}.pub")),
            "agency-head",
        )
        tokens = {
            r: add_user(s, log, f"{r}-user", r, kit.agency if r == "agency" else None, by="setup")
            for r in ROLES
        }
        other = add_user(s, log, "other-agency-user", "agency", OTHER_AGENCY, by="setup")
    app = create_app(ws, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(ws, client, tokens, kit, other, settings)
    ws.close()
