"""A small world processed by agency A, and an agency B with its own key, on each store.

The world's files (records, model, keys, batch) are made once per test session; each test
gets its own copy of the work folder and, on PostgreSQL, its own database, where both
agencies are registered again.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from taxgate import pipeline
from taxgate.intake.batch import read_raw
from taxgate.intake.signing import load_private_key, load_public_key, sign_manifest
from taxgate.pipeline import Outcome
from taxgate.services.officials import record_official
from taxgate.workspace import Workspace
from tests.conftest import World, built_once, make_world, taxgate, world_at

AGENCY_B = "AGENCY-B"


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> World:

    def build(root: Path) -> None:
        w = make_world(root, taxpayers=400, requests=60, seed=23)
        taxgate("keygen", "--out", root / "b.key", "--workdir", w.workdir)

    return world_at(built_once(tmp_path_factory, "integrity", build))


@dataclass(frozen=True)
class Site:
    """One work folder (and store) holding agencies A and B, ready to process batches."""

    world: World
    workdir: Path
    env: dict[str, str]
    root: Path

    opened: list[Workspace]

    def ws(self) -> Workspace:
        if not self.opened:
            self.opened.append(Workspace.open(self.workdir, user="tester"))
        return self.opened[0]

    def close(self) -> None:
        for w in self.opened:
            if w._store is not None:
                w.store.close()
        self.opened.clear()

    def process(self, folder: Path, out: Path | None = None) -> Outcome:
        """The pipeline in this process (the CLI's contract is held by a few tests)."""
        return pipeline.process(self.ws(), folder, out or self.root / f"out-{folder.name}")

    def run(self, *args: str | Path, check: bool = True) -> object:
        return taxgate(*args, "--workdir", self.workdir, check=check, env=self.env)

    def cli(self, *args: str | Path) -> tuple[int, str, str]:
        p = taxgate(*args, "--workdir", self.workdir, check=False, env=self.env)
        return p.returncode, p.stdout, p.stderr

    @property
    def agency_a(self) -> str:
        return str(json.loads((self.world.batch / "manifest.json").read_text())["agency"])

    def batch(
        self,
        name: str,
        rows: Sequence[dict[str, str]],
        *,
        agency: str | None = None,
        key: Path | None = None,
    ) -> Path:
        """A signed batch folder holding ``rows`` (requests.csv dicts)."""
        folder = self.root / name
        folder.mkdir(parents=True)
        manifest = json.loads((self.world.batch / "manifest.json").read_text())
        manifest["batch_id"] = name
        manifest["agency"] = agency or self.agency_a
        manifest.pop("signature", None)
        manifest["requests_sha256"] = ""
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        (folder / "requests.csv").write_bytes(csv_bytes(rows))
        sign_folder(folder, key or self.world.key)
        return folder

    def decisions(self, out: Path) -> list[dict[str, object]]:
        text = (out / "decisions.jsonl").read_text(encoding="utf-8")
        return [json.loads(x) for x in text.splitlines() if x]

    def response(self, out: Path) -> list[dict[str, object]]:
        text = (out / "response.jsonl").read_text(encoding="utf-8")
        return [json.loads(x) for x in text.splitlines() if x]


def sign_folder(folder: Path, key: Path) -> None:
    raw = read_raw(folder)
    signed = sign_manifest(raw.manifest, raw.requests_bytes, load_private_key(key))
    (folder / "manifest.json").write_text(json.dumps(signed), encoding="utf-8")


def read_rows(batch: Path) -> list[dict[str, str]]:
    with (batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def csv_bytes(rows: Sequence[dict[str, str]], header: Sequence[str] | None = None) -> bytes:
    from taxgate.types import REQUEST_COLUMNS

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(header or REQUEST_COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue().encode("utf-8")


@pytest.fixture
def site(
    small_world: World, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Site]:
    workdir = tmp_path / "work"
    shutil.copytree(small_world.workdir, workdir)
    env: dict[str, str] = {}
    if store_url.startswith("postgresql"):
        env["TAXGATE_DATABASE_URL"] = store_url
        monkeypatch.setenv("TAXGATE_DATABASE_URL", store_url)
    else:
        monkeypatch.delenv("TAXGATE_DATABASE_URL", raising=False)
    s = Site(small_world, workdir, env, tmp_path, [])
    manifest = json.loads((small_world.batch / "manifest.json").read_text())
    off = manifest["official"]
    ws = s.ws()
    for code, key in ((s.agency_a, small_world.key), (AGENCY_B, small_world.root / "b.key")):
        with ws.transaction() as (sess, log):
            pub = load_public_key(Path(f"{key}.pub"))
            record_official(sess, log, code, off["name"], off["title"], pub, "agency-head")
    return s


SiteFactory = Callable[[], Site]
