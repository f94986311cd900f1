"""``taxgate witness init|cosign|serve``: a witness an overseer runs with its own key; it
cosigns the agency's checkpoints only when each extends the last one it cosigned
(C2SP tlog-witness)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from taxgate.cli.base import app, out
from taxgate.errors import AuditError

witness_app = typer.Typer(
    no_args_is_help=True,
    help="A witness an overseer runs with its own key: it cosigns the agency's checkpoints "
    "only when each extends the last one it cosigned (C2SP tlog-witness).",
)
app.add_typer(witness_app, name="witness")
WitnessDir = Annotated[Path, typer.Option("--dir", help="The witness's folder.")]


@witness_app.command("init")
def witness_init(
    folder: WitnessDir,
    name: Annotated[str, typer.Option("--name", help="The witness's name, e.g. oig.example/w1.")],
    log_key: Annotated[
        str,
        typer.Option(
            "--log-key", help="The tax agency's verifier key (`taxgate audit export` prints it)."
        ),
    ],
    origin: Annotated[str, typer.Option(help="The log's origin line.")] = "taxgate/audit-log",
) -> None:
    """Make a witness folder with a new Ed25519 key; print the witness key to publish."""
    from taxgate.overseer.witness import WitnessHome

    home = WitnessHome.create(folder, name, {origin: log_key})
    out.print(f"witness `{home.name}` in {folder}; its key (give it to the agency):")
    sys.stdout.write(home.verifier_key + "\n")


@witness_app.command("cosign")
def witness_cosign(
    request: Annotated[Path, typer.Argument(help="An add-checkpoint request body (`-`: stdin).")],
    folder: WitnessDir,
) -> None:
    """Answer one add-checkpoint request offline: print the cosignature or refuse (exit 1)."""
    from taxgate.overseer.witness import WitnessHome

    body = sys.stdin.read() if str(request) == "-" else request.read_text(encoding="utf-8")
    answer = WitnessHome(folder).add(body)
    if answer.status != 200:
        raise AuditError(f"witness refuses (HTTP {answer.status}): {answer.body.strip()}")
    sys.stdout.write(answer.body)


@witness_app.command("serve")
def witness_serve(
    folder: WitnessDir,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
) -> None:
    """Serve POST /add-checkpoint over HTTP (uvicorn)."""
    import uvicorn

    from taxgate.overseer.app import create_witness_app
    from taxgate.overseer.witness import WitnessHome

    home = WitnessHome(folder)
    out.print(f"witness `{home.name}` on http://{host}:{port}/add-checkpoint")
    uvicorn.run(create_witness_app(home), host=host, port=port, access_log=False)
