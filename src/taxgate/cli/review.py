"""``taxgate review list|decide``: the human review queue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from taxgate.cli.base import app, out, workspace
from taxgate.errors import UsageError

review_app = typer.Typer(no_args_is_help=True, help="The human review queue.")
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list() -> None:
    """Requests waiting for a human decision."""
    from taxgate.services.review import pending

    rows = pending(workspace())
    if not rows:
        out.print("no request is waiting for review")
        return
    if not out.is_terminal:  # piped: a header, then one tab-separated line per request
        print("request_id\tbatch_id\tagency\tmatch_probability\tcodes\tcandidate\trunner_up")
        for p in rows:
            prob = "" if p.probability is None else f"{p.probability:.6f}"
            fields = [p.request_id, p.batch_id, p.agency, prob, ",".join(p.codes)]
            print("\t".join([*fields, p.candidate, p.runner_up]))
        return
    table = Table(
        "request",
        "batch",
        "agency",
        "match probability",
        "codes",
        "candidate",
        "runner-up",
        title="Pending review",
    )
    for p in rows:
        prob = "" if p.probability is None else f"{p.probability:.4f}"
        table.add_row(
            p.request_id, p.batch_id, p.agency, prob, ", ".join(p.codes), p.candidate, p.runner_up
        )
    out.print(table)
    out.print(f"{len(rows):,} pending")


@review_app.command("decide")
def review_decide(
    request_id: str,
    approve: Annotated[bool, typer.Option("--approve", help="Approve: disclose.")] = False,
    refuse: Annotated[bool, typer.Option("--refuse", help="Refuse: withhold.")] = False,
    note: Annotated[str, typer.Option(help="Why (kept in the store, not in the log).")] = "",
    as_user: Annotated[str | None, typer.Option("--as", help="Reviewer (default: you).")] = None,
    agency: Annotated[
        str | None,
        typer.Option(help="The requesting agency (needed when several agencies used the id)."),
    ] = None,
) -> None:
    """Approve or refuse a pending request (two people: not the submitter or processor)."""
    from taxgate.services.review import decide_review

    if approve == refuse:
        raise UsageError("say exactly one of `--approve` or `--refuse`")
    ws = workspace(user=as_user)
    body = decide_review(ws, request_id, approve=approve, note=note, user=ws.user, agency=agency)
    out.print(f"request {request_id}: {body['status']}")
