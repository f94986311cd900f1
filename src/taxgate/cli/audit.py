"""``taxgate audit checkpoint|verify|prove|consistency|export``: the tamper-evident log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import app, out, workspace
from taxgate.errors import AuditError, InputError, UsageError
from taxgate.services import audit, witnessing

audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
app.add_typer(audit_app, name="audit")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign and store the current tree head."""
    sys.stdout.write(audit.checkpoint(workspace()))


def _read(file: Path, what: str) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InputError(f"not a readable {what}", file=str(file)) from None


@audit_app.command("verify")
def audit_verify(
    export: Annotated[
        Path | None, typer.Option("--export", help="Verify an export file, with no store.")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="The tax agency's verifier key (for --export).")
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="An earlier `audit export` (or checkpoint) an overseer kept: fail unless "
            "today's log extends it (a rollback or a fork is caught).",
        ),
    ] = None,
    witness_keys: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            help="A witness's key: its cosignatures must verify and cover a checkpoint "
            "(repeatable; the rulebook's witnesses are always checked).",
        ),
    ] = None,
) -> None:
    """Rebuild the log and check it against every checkpoint and every stored row."""
    from taxgate.audit.export import cosigned_sizes

    if key is not None and export is None:
        raise UsageError("`--key` names the verifier of an `--export` file: give both")
    if since is not None and export is not None:
        raise UsageError(
            "`--since` compares the store's log with an earlier export: not with `--export`"
        )
    if export is not None:
        from taxgate.audit.export import verify_export

        try:
            doc = json.loads(_read(export, "audit export"))
        except json.JSONDecodeError:
            raise InputError("not a readable audit export", file=str(export)) from None
        rep = verify_export(doc, key)
        out.print(
            f"export verified: {rep.size:,} entries, {rep.checkpoints} checkpoints, "
            f"root {audit.b64_root(rep.root)} (base64, as in checkpoints)"
        )
        if witness_keys:
            for name, size in cosigned_sizes(list(doc["checkpoints"]), witness_keys).items():
                out.print(f"cosigned by witness `{name}` up to {size:,} entries")
        return
    earlier = None if since is None else _read(since, "audit export or checkpoint")
    if earlier is not None and earlier.lstrip().startswith("{"):
        try:
            json.loads(earlier)
        except json.JSONDecodeError as e:
            raise InputError(
                f"not a readable audit export (JSON broken at line {e.lineno}, column {e.colno})",
                file=str(since),
            ) from None
    ws = workspace()
    try:
        report, seen = audit.verify(ws, earlier)
    except AuditError as e:
        if since is None:
            raise
        raise AuditError(f"{e} (compared with `{since}`)") from None
    if seen is not None and since is not None:
        out.print(f"the log extends the {seen:,} entries of `{since.name}` (consistency proof)")
    for name, size in witnessing.cosignatures(ws, witness_keys or []).items():
        out.print(f"cosigned by witness `{name}` up to {size:,} entries")
    out.print(
        f"audit log verified: {report.size:,} entries, {report.checkpoints} checkpoints, "
        f"root {audit.b64_root(report.root)} (base64, as in checkpoints), "
        f"{report.unsigned_tail} entries after the latest checkpoint"
    )


@audit_app.command("prove")
def audit_prove(index: int) -> None:
    """Print an inclusion proof for entry INDEX against the latest checkpoint."""
    proof = audit.inclusion_proof(workspace(), index)
    sys.stdout.write(json.dumps(proof, indent=2, ensure_ascii=False) + "\n")


@audit_app.command("consistency")
def audit_consistency(old_size: int, new_size: int) -> None:
    """Print a consistency proof between two tree sizes (e.g. two checkpoints)."""
    doc = audit.consistency_proof(workspace(), old_size, new_size)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@audit_app.command("export")
def audit_export(file: Path) -> None:
    """Write the log's entries and checkpoints for an overseer."""
    doc = audit.export(workspace())
    file.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    out.print(
        f"wrote {len(doc['entries']):,} entries and {len(doc['checkpoints'])} checkpoints to {file}"
    )
    out.print(f"verifier key: {doc['verifier_key']}")


@audit_app.command("cosign")
def audit_cosign(
    witness: Annotated[
        str, typer.Option("--witness", help="The witness's URL, or its folder (offline).")
    ],
    witness_key: Annotated[
        str, typer.Option("--witness-key", help="The witness's key (`taxgate witness init`).")
    ],
) -> None:
    """Have a witness cosign the latest checkpoint; the cosignature is kept with it."""
    ws = workspace()
    ws.agency_key()
    got = witnessing.cosign_latest(ws, witness, witness_key)
    out.print(f"checkpoint of size {got.size:,} cosigned by witness `{got.witness}`")
