"""What every command group shares: the root command, the consoles, the work folder and
the progress bar.

``--workdir DIR`` is one option, defined here once: the root command takes it before the
command name and :func:`taxgate.cli.command` adds the same option to every command, so it
is accepted after the command name as well. Commands open the folder with
:func:`workspace`; those that keep no state (``synth``, ``keygen``, ``sign``) accept the
option and say in their help that they ignore it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from taxgate.workspace import Workspace

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="taxgate: the gate between taxpayer records and other agencies' requests for them.",
)

out = Console(soft_wrap=True, markup=False)  # input (ids, file names) is never markup
err = Console(stderr=True, soft_wrap=True, markup=False)

WORKDIR_HELP = (
    "Work folder of the commands that keep state (store, records, model, keys); "
    "default: $TAXGATE_HOME, else ./taxgate-data. Accepted before or after the command."
)
STATELESS_NOTE = "This command keeps no state: it accepts `--workdir` and ignores it."


@dataclass
class _Invocation:
    """The one value of ``--workdir`` for this run (the last one given wins)."""

    workdir: Path | None = None
    opened: list[Workspace] = field(default_factory=list)


_run = _Invocation()


def set_workdir(value: Path | None) -> None:
    """Record ``--workdir`` wherever it was given (root or command)."""
    if value is not None:
        _run.workdir = value


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"taxgate {version('taxgate')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print taxgate's version and exit."
        ),
    ] = False,
    workdir: Annotated[Path | None, typer.Option("--workdir", help=WORKDIR_HELP)] = None,
) -> None:
    """taxgate: the gate between taxpayer records and other agencies' requests for them."""
    _run.workdir = workdir  # a fresh run: nothing from an earlier one in this process


Config = Annotated[
    Path | None, typer.Option("--config", help="Configuration folder (default: the shipped one).")
]


def workspace(
    config: Path | None = None,
    *,
    rulebook: Path | None = None,
    user: str | None = None,
    origin: str = "cli",
) -> Workspace:
    """The work folder this run names (``--workdir``, else ``$TAXGATE_HOME``, else
    ``./taxgate-data``), opened; when the command ends, however it ends, the log's head is
    signed if it wrote to the log (:func:`taxgate.services.audit.seal`)."""
    ws = Workspace.open(_run.workdir, config=config, rulebook=rulebook, user=user, origin=origin)
    _run.opened.append(ws)
    return ws


def seal_opened() -> None:
    """Sign the log's head of every work folder this run wrote to (:func:`main` calls it
    however the command ended)."""
    from taxgate.errors import TaxgateError
    from taxgate.services.audit import seal

    while _run.opened:
        ws = _run.opened.pop()
        try:
            seal(ws)
        except TaxgateError as e:  # the command's own outcome stands; say why
            err.print(f"warning: the log's head was not signed: {e}", markup=False)


@contextmanager
def progress(label: str) -> Iterator[Any]:
    """A rich progress bar on stderr (when it is a terminal); yields
    ``update(stage, done, total)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{label}: {stage}", total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update
