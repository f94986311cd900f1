"""``taxgate keygen``, ``sign`` and ``verify-response``: the keys and signatures an official
and an agency use outside the store; ``taxgate keys rotate|status``: the work folder's
encryption keys (:mod:`taxgate.crypto`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import STATELESS_NOTE, app, out, workspace


@app.command(epilog=STATELESS_NOTE)
def keygen(
    out_file: Annotated[
        Path, typer.Option("--out", help="Private key file; KEY.pub is written too.")
    ],
) -> None:
    """Make an Ed25519 key pair for an official."""
    from taxgate.intake.signing import generate_key

    priv, pub = generate_key(out_file)
    out.print(f"wrote {priv} (private, keep it secret) and {pub}")


@app.command(epilog=STATELESS_NOTE)
def sign(
    folder: Path,
    key: Annotated[Path, typer.Option(help="The official's private key.")],
) -> None:
    """Fill requests_sha256 and signature in DIR/manifest.json."""
    from taxgate.intake.batch import sign_folder
    from taxgate.intake.signing import load_private_key

    signed = sign_folder(folder, load_private_key(key))
    path = folder / "manifest.json"
    out.print(f"signed {path} (requests sha256 {signed['requests_sha256'][:16]})")


@app.command("verify-response")
def verify_response_cmd(
    folder: Path,
    public_key: Annotated[
        Path | None, typer.Option(help="The tax agency's public key (default: this work folder's).")
    ] = None,
) -> None:
    """Check a response folder against the tax agency's signature."""
    from taxgate.disclosure.response import verify_response
    from taxgate.intake.signing import load_public_key

    key = load_public_key(public_key) if public_key else workspace().agency_key().public_key()
    n = verify_response(folder, key)
    out.print(f"response verified: {n:,} disclosed requests, signature good")


keys_app = typer.Typer(
    no_args_is_help=True,
    help="Encryption keys of the work folder: the stored values and the records at rest.",
)
app.add_typer(keys_app, name="keys")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new key, re-encrypt every stored value and the records under it, log the
    rotation (key ids only) and retire the old key. Stop the service's workers first."""
    from taxgate.services.keys import rotate

    r = rotate(workspace())
    records = "no records loaded" if r.records_rows is None else f"{r.records_rows:,} records rows"
    out.print(
        f"rotated to key {r.new_key}: re-encrypted {r.requests:,} request values, "
        f"{r.disclosures:,} disclosure values and {records}; retired "
        f"{', '.join(r.old_keys)}; logged as entry {r.audit_index}"
    )


@keys_app.command("status")
def keys_status() -> None:
    """The keys file, its keys, and how many stored values each key seals (none opened)."""
    from taxgate.services.keys import status

    st = status(workspace())
    out.print(f"keys file: {st.file}")
    out.print(f"active key: {st.active or '(none yet)'}; keys: {', '.join(st.keys) or '-'}")
    for kid, n in sorted(st.sealed_by_key.items()):
        out.print(f"  {n:,} stored values {'in the clear' if kid == 'plain' else 'under ' + kid}")
    if st.records_encrypted is not None:
        out.print(f"records file: {'encrypted' if st.records_encrypted else 'NOT encrypted'}")
