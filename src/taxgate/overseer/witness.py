"""A witness's home folder: its key, the logs it follows, the last checkpoint it cosigned.

::

    DIR/witness.key          the witness's Ed25519 private key (mode 600)
    DIR/witness.json         {"name": ..., "logs": {origin: the log's verifier key}}
    DIR/state/<origin>.txt   the last checkpoint cosigned for that log (its hash names it)

:meth:`WitnessHome.add` reads the held checkpoint, decides (:mod:`taxgate.audit.witness`)
and writes the new one under one exclusive lock, so two requests can never roll the
witness back (the race the protocol warns about); the file is replaced atomically and
synced before the cosignature is returned.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.audit.checkpoint import Verifier, parse_checkpoint, parse_verifier_key
from taxgate.audit.cosignature import witness_key
from taxgate.audit.witness import Cosigned, WitnessRefusal, add_checkpoint, parse_request
from taxgate.errors import AuditError, InputError, UsageError
from taxgate.intake.signing import generate_key, load_private_key


@dataclass(frozen=True)
class Answer:
    """The witness's HTTP answer: status, content type, body."""

    status: int
    content_type: str
    body: str


class WitnessHome:
    """A witness's folder (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        config = folder / "witness.json"
        if not config.is_file():
            raise InputError("not a witness folder (no witness.json)", file=str(config))
        try:
            doc = json.loads(config.read_text(encoding="utf-8"))
            self.name = str(doc["name"])
            self.logs: dict[str, Verifier] = {
                str(o): parse_verifier_key(str(k)) for o, k in dict(doc["logs"]).items()
            }
        except (ValueError, KeyError, TypeError, AuditError) as e:
            raise InputError(f"not a witness configuration ({e})", file=str(config)) from None
        self.key: Ed25519PrivateKey = load_private_key(folder / "witness.key")

    @staticmethod
    def create(folder: Path, name: str, logs: dict[str, str]) -> WitnessHome:
        """Make a witness folder with a new key following ``logs`` (origin -> verifier key)."""
        if (folder / "witness.json").exists():
            raise UsageError(f"`{folder}` is already a witness folder")
        for origin, vkey in logs.items():
            parse_verifier_key(vkey)
            if not origin or "\n" in origin:
                raise UsageError("a log origin is one non-empty line")
        witness_key(name, Ed25519PrivateKey.generate().public_key())  # checks the name
        folder.mkdir(parents=True, exist_ok=True)
        generate_key(folder / "witness.key")
        doc = {"name": name, "logs": logs}
        (folder / "witness.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return WitnessHome(folder)

    @property
    def verifier_key(self) -> str:
        """What the witness publishes: its name and public key (``witness_key``)."""
        return witness_key(self.name, self.key.public_key())

    def _state_file(self, origin: str) -> Path:
        return self.folder / "state" / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".txt")

    def held(self, origin: str) -> Cosigned | None:
        """The last checkpoint cosigned for ``origin``."""
        path = self._state_file(origin)
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
        head = parse_checkpoint(text)
        return Cosigned(head.size, head.root, text)

    def add(self, body: str, now: int | None = None) -> Answer:
        """Answer one ``add-checkpoint`` request (the protocol's statuses and bodies)."""
        try:
            request = parse_request(body)
            origin = parse_checkpoint(request.checkpoint).origin
        except WitnessRefusal as e:
            return Answer(e.status, "text/plain", str(e) + "\n")
        except AuditError as e:
            return Answer(400, "text/plain", f"not a checkpoint ({e})\n")
        (self.folder / "state").mkdir(exist_ok=True)
        with open(self.folder / "state" / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # check and update as one step
            try:
                new, line = add_checkpoint(
                    request,
                    self.logs,
                    self.held(origin),
                    self.key,
                    self.name,
                    int(time.time()) if now is None else now,
                )
            except WitnessRefusal as e:
                if e.status == 409 and e.size is not None:
                    return Answer(409, "text/x.tlog.size", f"{e.size}\n")
                return Answer(e.status, "text/plain", str(e) + "\n")
            path = self._state_file(origin)
            tmp = path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(new.checkpoint)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        return Answer(200, "text/plain", line)
