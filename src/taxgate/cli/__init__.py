"""The command line: one front door onto the pipeline (the service is the other).

One module per command group, each thin over :mod:`taxgate.services` (or the pipeline):
it parses options, calls one service and prints what came back, so an event is logged the
same way whichever front door caused it.

=================  ==================================================================
module             commands
=================  ==================================================================
:mod:`.base`       the root command, ``--version``, ``--workdir``, consoles, progress
:mod:`.synth`      ``synth records``, ``synth batch``
:mod:`.records`    ``records load``, ``model train``
:mod:`.keys`       ``keygen``, ``sign``, ``verify-response``, ``keys rotate|status``
:mod:`.agencies`   ``agencies add|revoke|list``
:mod:`.batches`    ``check``, ``process``
:mod:`.review`     ``review list|decide``
:mod:`.holdback`   ``holdback add|remove|list``
:mod:`.disclosures` ``disclosures``, ``reaudit``
:mod:`.reports`    ``report``, ``transparency``
:mod:`.audit`      ``audit checkpoint|verify|prove|consistency|export``
:mod:`.users`      ``users add|list|disable|rotate``
:mod:`.retention`  ``retention purge``
:mod:`.serve`      ``demo``, ``serve``, ``worker``
=================  ==================================================================

Exit status: 0 on success (a batch whose requests are refused one by one was still
processed), 1 when an input is refused as a whole, 2 on usage errors (see
:func:`taxgate.errors.exit_code`).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import typer

from taxgate.cli import (  # noqa: F401  (each module registers its commands on `app`)
    agencies,
    audit,
    batches,
    disclosures,
    holdback,
    keys,
    records,
    reports,
    retention,
    review,
    serve,
    synth,
    users,
    witness,
)
from taxgate.cli.base import app, err, seal_opened, set_workdir
from taxgate.errors import TaxgateError, exit_code
from taxgate.settings import load_settings

__all__ = ["app", "command", "main"]


def _tidy_help(command: Any) -> None:
    """Flags show as flags (no ``<bool>``) and arguments as ``NAME`` in every help page."""
    for param in getattr(command, "params", []):
        kind = getattr(param, "param_type_name", "")
        if kind == "option" and getattr(param, "is_flag", False):
            param.metavar = ""
        elif kind == "argument" and param.metavar is None and param.name:
            name = param.name.upper()
            param.metavar = name
            param._usage_display_name = lambda name=name: name  # FILE, not {FILE}
    make_help = getattr(command, "get_help_option", None)
    if make_help is not None:

        def help_option(ctx: Any, make_help: Any = make_help) -> Any:
            option = make_help(ctx)
            if option is not None:
                option.metavar = ""
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


def _share_workdir(root: Any) -> None:
    """Give every command below the root the root's one ``--workdir`` option, so it is
    accepted after the command name too; wherever it is given, it names the work folder."""
    option = next(p for p in root.params if p.name == "workdir")

    def store(_ctx: Any, _param: Any, value: Path | None) -> None:
        set_workdir(value)

    def walk(group: Any) -> None:
        for sub in getattr(group, "commands", {}).values():
            shared = copy.copy(option)
            shared.expose_value = False
            shared.callback = store
            sub.params.append(shared)
            walk(sub)

    walk(root)


# The order help lists the commands in: the way a batch flows (a command not named here
# is listed after these).
ORDER = (
    "demo",
    "synth",
    "records",
    "model",
    "keygen",
    "agencies",
    "holdback",
    "sign",
    "check",
    "process",
    "review",
    "disclosures",
    "audit",
    "reaudit",
    "report",
    "transparency",
    "verify-response",
    "users",
    "serve",
    "worker",
)


def command() -> Any:
    """The whole command line as one click command (what :func:`main` runs)."""
    root: Any = typer.main.get_command(app)
    rank = {name: i for i, name in enumerate(ORDER)}
    root.commands = dict(sorted(root.commands.items(), key=lambda kv: rank.get(kv[0], len(ORDER))))
    _share_workdir(root)
    _tidy_help(root)
    return root


def _debug() -> bool:
    try:
        return load_settings().debug
    except TaxgateError:
        return False


def main() -> None:
    """Run the command line; errors are printed without personal data.

    taxgate's own errors carry messages written to hold none. Anything else could echo a
    value from the input, so only its type and where it was raised are printed (set
    ``TAXGATE_DEBUG=1`` to see the whole traceback on synthetic data).
    """
    import traceback

    try:
        try:
            command()(prog_name="taxgate")
        finally:
            seal_opened()
    except TaxgateError as e:
        err.print(f"error: {e}", markup=False, highlight=False)
        sys.exit(exit_code(e))
    except Exception as e:
        if _debug():
            raise
        frame = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        err.print(
            f"internal error at {where}: taxgate could not finish "
            "(details withheld: they may hold personal data; TAXGATE_DEBUG=1 shows them)",
            markup=False,
            highlight=False,
        )
        sys.exit(1)
