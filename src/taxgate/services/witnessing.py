"""The agency's side of witnessing: ask an overseer's witness to cosign the latest
checkpoint, keep the cosignature with it, and hold responses until that is done when the
rulebook says to publish before disclosing.

A cosignature is one more signature line on the stored checkpoint note (the agency's own
signature stays as it was: nothing is re-signed). The witness is reached over HTTP (its URL,
``POST <url>/add-checkpoint``) or, for an overseer's offline witness, as its folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.audit.cosignature import WitnessKey, cosigned_by, parse_witness_key
from taxgate.audit.tree import MerkleTree
from taxgate.audit.witness import request_body
from taxgate.errors import AuditError
from taxgate.storage import tables as m
from taxgate.storage.audit_log import leaf_hashes
from taxgate.workspace import Workspace


@dataclass(frozen=True)
class CosignResult:
    size: int
    witness: str


def _send(witness: str, body: str) -> tuple[int, str]:
    if witness.startswith(("http://", "https://")):
        import httpx  # only a remote witness needs an HTTP client

        r = httpx.post(
            witness.rstrip("/") + "/add-checkpoint",
            content=body.encode("utf-8"),
            timeout=30,
        )
        return r.status_code, r.text
    from taxgate.overseer.witness import WitnessHome

    answer = WitnessHome(Path(witness)).add(body)
    return answer.status, answer.body


def _cosigned_size(s: Session, key: WitnessKey) -> int:
    """The largest checkpoint size this witness has cosigned for us (0: none)."""
    best = 0
    for cp in s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id)):
        if key.name in cosigned_by(cp.text, [key]):
            best = max(best, cp.size)
    return best


def cosign_latest(ws: Workspace, witness: str, key_text: str) -> CosignResult:
    """Send the latest checkpoint to ``witness`` and store its cosignature with it.

    Args:
        witness: the witness's URL, or its folder.
        key_text: the witness's key (``name+hexid+base64``), obtained from the overseer.

    Raises:
        AuditError: no checkpoint, or the witness refused (its status and reason named),
            or its answer does not verify under ``key_text``.
    """
    key = parse_witness_key(key_text)
    with ws.transaction() as (s, _):
        row = s.scalars(select(m.Checkpoint).order_by(m.Checkpoint.id.desc()).limit(1)).first()
        if row is None:
            raise AuditError("no checkpoint to cosign: run `taxgate audit checkpoint` first")
        text, size, cp_id = row.text, row.size, row.id
        tree = MerkleTree(leaf_hashes(s, size))
        old = _cosigned_size(s, key)
    status, answer = 0, ""
    for _ in range(2):  # a 409 names the witness's size: try once more from it
        proof = tree.consistency_proof(old, size) if 0 < old <= size else []
        status, answer = _send(witness, request_body(old, proof, text))
        if status == 409 and answer.strip().isdigit() and int(answer) != old:
            old = int(answer)
            if old > size:
                break
            continue
        break
    if status != 200:
        raise AuditError(
            f"witness `{key.name}` refused the checkpoint of size {size} "
            f"(HTTP {status}: {answer.strip()[:200]})"
        )
    lines = [x + "\n" for x in answer.splitlines() if x.strip()]
    with ws.transaction() as (s, log):
        row = s.get(m.Checkpoint, cp_id)
        assert row is not None
        mine = [x for x in lines if key.name in cosigned_by(row.text + x, [key])]
        if not mine:
            raise AuditError(f"witness `{key.name}` answered without a cosignature by its key")
        row.text = row.text + mine[0]
        log.append("checkpoint_cosigned", f"checkpoint:{size}", {"witness": key.name, "size": size})
    return CosignResult(size, key.name)


def cosignatures(ws: Workspace, witness_keys: list[str]) -> dict[str, int]:
    """Check the stored checkpoints' cosignatures: the rulebook's witnesses' lines must
    verify; each of ``witness_keys`` must also have cosigned a checkpoint. Per witness, the
    largest size cosigned.

    Raises:
        AuditError: a cosignature does not verify, or a named witness cosigned nothing.
    """
    from taxgate.audit.export import cosigned_sizes
    from taxgate.storage.audit_log import checkpoint_texts

    with ws.transaction() as (s, _):
        texts = checkpoint_texts(s)
    found = cosigned_sizes(texts, ws.rulebook.witnesses, required=False)
    found |= cosigned_sizes(texts, witness_keys)
    return found
