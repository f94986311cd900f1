"""``taxgate keygen``, ``sign`` and ``verify-response``: the keys and signatures an official
and an agency use outside the store."""

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
