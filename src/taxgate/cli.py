"""The command line: one front door onto the pipeline (the service is the other).

Exit status: 0 on success (a batch whose requests are refused one by one was still
processed), 1 when an input is refused as a whole, 2 on usage errors.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from taxgate.errors import InputError, TaxgateError, UsageError, exit_code
from taxgate.settings import load_settings
from taxgate.workspace import Workspace

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="taxgate: the gate between taxpayer records and other agencies' requests for them.",
)
synth_app = typer.Typer(no_args_is_help=True, help="Make a synthetic world.")
records_app = typer.Typer(no_args_is_help=True, help="The taxpayer records.")
agencies_app = typer.Typer(no_args_is_help=True, help="Requesting agencies and their officials.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
app.add_typer(synth_app, name="synth")
app.add_typer(records_app, name="records")
app.add_typer(agencies_app, name="agencies")
app.add_typer(audit_app, name="audit")

out = Console(soft_wrap=True, markup=False)  # input (ids, file names) is never markup
err = Console(stderr=True, soft_wrap=True, markup=False)


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
) -> None:
    """taxgate: the gate between taxpayer records and other agencies' requests for them."""


Workdir = Annotated[
    Path | None,
    typer.Option("--workdir", help="Work folder (default: $TAXGATE_HOME, else ./taxgate-data)."),
]
Config = Annotated[
    Path | None, typer.Option("--config", help="Configuration folder (default: the shipped one).")
]


def _ws(workdir: Path | None, config: Path | None = None, **kw: Any) -> Workspace:
    return Workspace.open(workdir, config=config, **kw)


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    """A rich progress bar; yields ``update(stage, done, total)``."""
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


# ---------------------------------------------------------------- synth


@synth_app.command("records")
def synth_records(
    taxpayers: Annotated[int, typer.Option(min=1, help="How many taxpayers.")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.parquet")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    workdir: Workdir = None,
) -> None:
    """Write synthetic taxpayer records (one row per taxpayer per tax year 2020-2024)."""
    from taxgate.synth.records import write_records

    if out_file.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"`--out` must end in .csv or .parquet, not `{out_file.suffix}`")
    t0 = time.perf_counter()
    with _progress("synth records") as update:
        stats = write_records(
            out_file, taxpayers, seed, progress=lambda rows: update("rows", rows, taxpayers * 5)
        )
    out.print(
        f"wrote {stats.rows:,} rows for {stats.taxpayers:,} taxpayers to {out_file} "
        f"in {time.perf_counter() - t0:.1f} s"
    )


@synth_app.command("batch")
def synth_batch(
    records: Annotated[Path, typer.Option(help="Records file the batch is drawn from.")],
    requests: Annotated[int, typer.Option(min=1, help="How many requests.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Batch folder to write.")],
    truth: Annotated[Path, typer.Option(help="Ground-truth CSV to write.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    workdir: Workdir = None,
) -> None:
    """Write a synthetic request batch (unsigned) and its ground truth."""
    from taxgate.synth.batch import write_batch

    stats = write_batch(records, out_dir, truth, requests, seed)
    kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.by_kind.items()))
    out.print(f"wrote {stats.requests:,} requests to {out_dir} ({kinds})")


# ---------------------------------------------------------------- records, keys, agencies


@records_app.command("load")
def records_load(file: Path, workdir: Workdir = None) -> None:
    """Load (or replace) the taxpayer records from a CSV or Parquet file."""
    from taxgate.records.load import load_records

    ws = _ws(workdir)
    t0 = time.perf_counter()
    stats = load_records(file, ws.paths.records)
    with ws.transaction() as (_, log):
        log.append(
            "records_loaded",
            "records",
            {"rows": stats.rows, "taxpayers": stats.taxpayers, "years": list(stats.years)},
        )
    out.print(
        f"loaded {stats.rows:,} rows for {stats.taxpayers:,} taxpayers "
        f"(tax years {', '.join(map(str, stats.years))}) in {time.perf_counter() - t0:.1f} s"
    )


@app.command()
def keygen(
    out_file: Annotated[
        Path, typer.Option("--out", help="Private key file; KEY.pub is written too.")
    ],
    workdir: Workdir = None,
) -> None:
    """Make an Ed25519 key pair for an official."""
    from taxgate.intake.signing import generate_key

    priv, pub = generate_key(out_file)
    out.print(f"wrote {priv} (private, keep it secret) and {pub}")


@agencies_app.command("add")
def agencies_add(
    code: str,
    official: Annotated[str, typer.Option(help="The authorized official's name.")],
    title: Annotated[str, typer.Option(help="The official's title.")],
    public_key: Annotated[Path, typer.Option(help="The official's KEY.pub.")],
    authority: Annotated[
        str,
        typer.Option(
            help="The official's authority under 6103(i)(2)(A): "
            "agency-head | inspector-general | attorney-general | deputy-attorney-general | "
            "associate-attorney-general | assistant-attorney-general | fbi-director | "
            "dea-administrator | us-attorney | special-prosecutor | strike-force-attorney."
        ),
    ],
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """Register an official authorized to request for an agency (creates the agency if new).

    Only an official the statute lists may be registered; the rulebook says which
    authorities may request, and the Justice-only ones only for a Justice agency.
    """
    from taxgate.intake.signing import load_public_key
    from taxgate.services.officials import check_registration, register_official

    ws = _ws(workdir, config)
    check_registration(ws, code, authority)  # before the key is read, as nothing is stored
    key = load_public_key(public_key)
    got = register_official(ws, code, official, title, key, authority)
    out.print(
        f"{'created agency' if got.agency_created else 'agency'} {code}: "
        f"official registered, key {got.key_id[:16]}"
    )


@agencies_app.command("revoke")
def agencies_revoke(
    code: str,
    official: Annotated[str, typer.Option(help="The official whose authority ends.")],
    workdir: Workdir = None,
) -> None:
    """Revoke an official's authority to request (their batches then fail R-REQUESTER)."""
    from taxgate.storage import repo

    ws = _ws(workdir)
    with ws.transaction() as (s, log):
        n = repo.set_official_active(s, code, official, False)
        if n == 0:
            raise UsageError(f"agency `{code}` has no such official registered")
        log.append("permission_change", code, {"change": "official_revoked", "keys": n})
    out.print(f"revoked {n} key(s) of the official at {code}")


@agencies_app.command("list")
def agencies_list(workdir: Workdir = None) -> None:
    """List agencies and their registered officials."""
    from taxgate.storage import repo

    ws = _ws(workdir)
    table = Table("agency", "official", "title", "authority", "key", "active")
    with ws.transaction() as (s, _):
        for o in repo.list_officials(s):
            table.add_row(
                o.agency_code,
                o.name,
                o.title,
                o.authority or "(none)",
                o.key_id[:16],
                "yes" if o.active else "no",
            )
    out.print(table)


@app.command()
def sign(
    folder: Path,
    key: Annotated[Path, typer.Option(help="The official's private key.")],
    workdir: Workdir = None,
) -> None:
    """Fill requests_sha256 and signature in DIR/manifest.json."""
    from taxgate.intake.batch import read_raw
    from taxgate.intake.signing import load_private_key, sign_manifest

    raw = read_raw(folder)
    signed = sign_manifest(raw.manifest, raw.requests_bytes, load_private_key(key))
    path = folder / "manifest.json"
    tmp = path.with_name("manifest.json.tmp")
    tmp.write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    out.print(f"signed {path} (requests sha256 {signed['requests_sha256'][:16]})")


# ---------------------------------------------------------------- rules and the pipeline


@app.command()
def check(
    folder: Path,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Decisions JSONL (default: stdout).")
    ] = None,
    rulebook: Annotated[Path | None, typer.Option(help="Another rulebook version.")] = None,
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """Judge a batch by the rules only (nothing is stored or disclosed)."""
    from taxgate.pipeline import check_batch

    ws = _ws(workdir, config, rulebook=rulebook)
    decisions = check_batch(ws, folder)
    lines = "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in decisions)
    if out_file is None:
        sys.stdout.write(lines)
    else:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(lines, encoding="utf-8")
        counts = Counter(d["outcome"] for d in decisions)
        err.print(
            f"{len(decisions):,} requests: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
        )


@app.command()
def process(
    folder: Path,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for decisions, response, report.")],
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """Run a batch through the whole pipeline."""
    from taxgate import pipeline

    if engine not in ("duckdb", "spark"):
        raise UsageError("`--engine` must be duckdb or spark")
    ws = _ws(workdir, config)
    t0 = time.perf_counter()
    with _progress("process") as update:
        result = pipeline.process(ws, folder, out_dir, engine=engine, progress=update)
    _summary(result.decisions)
    out.print(
        f"batch {result.batch_id}: {result.new:,} decided, {result.repeated:,} returned "
        f"from earlier decisions (R-DUPLICATE), {result.disclosed:,} disclosed, "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    out.print(f"outputs in {out_dir} (report: {out_dir / 'report.html'})")
    if result.held:
        out.print(
            f"response.jsonl held: {result.held}; run `taxgate audit cosign`, then this "
            "command again (the stored decisions are answered, nothing is decided twice)"
        )


def _summary(decisions: list[dict[str, Any]]) -> None:
    status = Counter(d["status"] for d in decisions)
    codes = Counter(r["code"] for d in decisions for r in d["reasons"])
    table = Table("final status", "requests", title="Requests by final status")
    for k, v in status.most_common():
        table.add_row(k, f"{v:,}")
    out.print(table)
    if codes:
        t2 = Table("code", "requests", title="Reasons by code")
        for k, v in sorted(codes.items()):
            t2.add_row(k, f"{v:,}")
        out.print(t2)


model_app = typer.Typer(no_args_is_help=True, help="The matching model.")
app.add_typer(model_app, name="model")


@model_app.command("train")
def model_train(
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    seed: Annotated[int, typer.Option(help="Random seed (training is reproducible).")] = 42,
    workdir: Workdir = None,
) -> None:
    """Train the matching model on the loaded records (also done on first use)."""
    from taxgate import pipeline

    if engine not in ("duckdb", "spark"):
        raise UsageError("`--engine` must be duckdb or spark")
    ws = _ws(workdir)
    t0 = time.perf_counter()
    with _progress("model") as update:
        version = pipeline.train(ws, engine=engine, seed=seed, progress=update)
    out.print(f"trained model {version} in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------- audit


@audit_app.command("checkpoint")
def audit_checkpoint(workdir: Workdir = None) -> None:
    """Sign and store the current tree head."""
    from taxgate.storage.audit_log import checkpoint_now

    ws = _ws(workdir)
    key = ws.agency_key()
    with ws.transaction() as (s, _):
        text = checkpoint_now(s, key)
    sys.stdout.write(text)


def _b64_root(hex_root: str) -> str:
    """A root hash in base64, the one encoding checkpoints and proofs use."""
    import base64

    return base64.b64encode(bytes.fromhex(hex_root)).decode("ascii") if hex_root else ""


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
    workdir: Workdir = None,
) -> None:
    """Rebuild the log and check it against every checkpoint and every stored row."""
    from taxgate.audit.export import cosigned_sizes

    if export is not None:
        from taxgate.audit.export import verify_export

        try:
            doc = json.loads(export.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise InputError("not a readable audit export", file=str(export)) from None
        rep = verify_export(doc, key)
        out.print(
            f"export verified: {rep.size:,} entries, {rep.checkpoints} checkpoints, "
            f"root {_b64_root(rep.root)} (base64, as in checkpoints)"
        )
        if witness_keys:
            for name, size in cosigned_sizes(list(doc["checkpoints"]), witness_keys).items():
                out.print(f"cosigned by witness `{name}` up to {size:,} entries")
        return
    from taxgate.storage.audit_log import verify_log

    earlier = None
    if since is not None:
        try:
            earlier = since.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise InputError("not a readable audit export or checkpoint", file=str(since)) from None
    ws = _ws(workdir)
    pub = ws.agency_key().public_key()
    with ws.transaction() as (s, _):
        report = verify_log(s, pub)
        if earlier is not None and since is not None:
            from taxgate.storage.audit_log import verify_since

            seen = verify_since(s, pub, earlier)
            out.print(f"the log extends the {seen:,} entries of `{since.name}` (consistency proof)")
        from taxgate.storage.audit_log import checkpoint_texts

        texts = checkpoint_texts(s)
        found = cosigned_sizes(texts, ws.rulebook.witnesses, required=False)  # lines verify
        found |= cosigned_sizes(texts, witness_keys or [])  # and these must have cosigned
        for name, size in found.items():
            out.print(f"cosigned by witness `{name}` up to {size:,} entries")
    out.print(
        f"audit log verified: {report.size:,} entries, {report.checkpoints} checkpoints, "
        f"root {_b64_root(report.root)} (base64, as in checkpoints), "
        f"{report.unsigned_tail} entries after the latest checkpoint"
    )


@audit_app.command("prove")
def audit_prove(index: int, workdir: Workdir = None) -> None:
    """Print an inclusion proof for entry INDEX against the latest checkpoint."""
    from taxgate.audit.checkpoint import parse_checkpoint
    from taxgate.audit.export import inclusion
    from taxgate.storage import audit_log

    ws = _ws(workdir)
    ws.agency_key()
    with ws.transaction() as (s, _):
        text = audit_log.latest_checkpoint(s)
        if text is None:
            raise UsageError("no checkpoint yet: run `taxgate audit checkpoint`")
        head = parse_checkpoint(text)
        proof = inclusion(audit_log.leaf_hashes(s, head.size), index, head.size, head.root)
        entry = audit_log.entry_bytes(s, index)
    proof["entry"] = entry.decode("utf-8")
    proof["checkpoint"] = text
    sys.stdout.write(json.dumps(proof, indent=2, ensure_ascii=False) + "\n")


@audit_app.command("consistency")
def audit_consistency(old_size: int, new_size: int, workdir: Workdir = None) -> None:
    """Print a consistency proof between two tree sizes (e.g. two checkpoints)."""
    import base64

    from taxgate.audit.tree import MerkleTree
    from taxgate.storage import audit_log

    ws = _ws(workdir)
    with ws.transaction() as (s, _):
        tree = MerkleTree(audit_log.leaf_hashes(s, new_size))
    if not 0 <= old_size <= new_size <= tree.size:
        raise UsageError(f"sizes must satisfy 0 <= OLD <= NEW <= {tree.size}")
    b64 = base64.b64encode
    doc = {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": b64(tree.root(old_size)).decode(),
        "new_root": b64(tree.root(new_size)).decode(),
        "proof": [b64(h).decode() for h in tree.consistency_proof(old_size, new_size)],
    }
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@audit_app.command("export")
def audit_export(file: Path, workdir: Workdir = None) -> None:
    """Write the log's entries and checkpoints for an overseer."""
    from taxgate.audit.checkpoint import verifier_key
    from taxgate.audit.export import build_export
    from taxgate.storage import audit_log

    ws = _ws(workdir)
    pub = ws.agency_key().public_key()
    with ws.transaction() as (s, _):
        doc = build_export(
            audit_log.ORIGIN,
            verifier_key(audit_log.KEY_NAME, pub),
            audit_log.all_entries(s),
            audit_log.checkpoint_texts(s),
        )
    file.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    out.print(
        f"wrote {len(doc['entries']):,} entries and {len(doc['checkpoints'])} checkpoints to {file}"
    )
    out.print(f"verifier key: {doc['verifier_key']}")


# ---------------------------------------------------------------- review, accounting, oversight

review_app = typer.Typer(no_args_is_help=True, help="The human review queue.")
app.add_typer(review_app, name="review")

holdback_app = typer.Typer(
    no_args_is_help=True, help="The 6103(i)(6) holdback: taxpayers about whom nothing goes out."
)
app.add_typer(holdback_app, name="holdback")


@holdback_app.command("add")
def holdback_add(
    tin: str,
    reason: Annotated[str, typer.Option(help="informant | tax-investigation")],
    workdir: Workdir = None,
) -> None:
    """Hold a taxpayer back: requests matching them are never disclosed (read as no match)."""
    from taxgate import holdback
    from taxgate.storage import repo

    ws = _ws(workdir)
    with ws.transaction() as (s, log):
        new = holdback.add(s, log, tin, reason, repo.now_iso())
    out.print("held back" if new else "already held back: reason updated")


@holdback_app.command("remove")
def holdback_remove(tin: str, workdir: Workdir = None) -> None:
    """End a holdback."""
    from taxgate import holdback

    ws = _ws(workdir)
    with ws.transaction() as (s, log):
        holdback.remove(s, log, tin)
    out.print("holdback removed")


@holdback_app.command("list")
def holdback_list(workdir: Workdir = None) -> None:
    """The taxpayers held back (from the store; the log keeps only salted hashes)."""
    from taxgate import holdback

    ws = _ws(workdir)
    table = Table("tin", "reason", "since", "by")
    with ws.transaction() as (s, _):
        for h in holdback.listing(s):
            table.add_row(h.tin, h.reason, h.added_at, h.added_by)
    out.print(table)


@review_app.command("list")
def review_list(workdir: Workdir = None) -> None:
    """Requests waiting for a human decision."""
    from taxgate.services.review import pending

    rows = pending(_ws(workdir))
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
    workdir: Workdir = None,
) -> None:
    """Approve or refuse a pending request (two people: not the submitter or processor)."""
    from taxgate.services.review import decide_review

    if approve == refuse:
        raise UsageError("say exactly one of `--approve` or `--refuse`")
    ws = _ws(workdir, user=as_user)
    body = decide_review(ws, request_id, approve=approve, note=note, user=ws.user, agency=agency)
    out.print(f"request {request_id}: {body['status']}")


@app.command()
def disclosures(
    tin: Annotated[str | None, typer.Option(help="Every disclosure about this taxpayer.")] = None,
    request: Annotated[str | None, typer.Option(help="The disclosure for this request.")] = None,
    agency: Annotated[str | None, typer.Option(help="Disclosures to this agency.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first (paging).")] = 0,
    workdir: Workdir = None,
) -> None:
    """The record of disclosures (6103(p)(3)(A)), as JSON lines; with no option, all of them
    a page at a time (--limit, --offset)."""
    from taxgate.services.accounting import accounting

    if tin is not None and request is not None:
        raise UsageError("say at most one of `--tin` or `--request`")
    rows = accounting(
        _ws(workdir), tin=tin, request_id=request, agency=agency, limit=limit + 1, offset=offset
    )
    for row in rows[:limit]:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    if not rows:
        err.print("no disclosure matches" if offset == 0 else "no more disclosures")
    elif len(rows) > limit:
        err.print(
            f"showing {offset + 1:,}-{offset + limit:,}; more with `--offset {offset + limit}`"
        )


@app.command()
def reaudit(
    rulebook: Annotated[
        str,
        typer.Option(
            help="The rulebook to judge past disclosures by: a shipped one by name "
            "(e.g. `strict`) or a YAML file."
        ),
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the findings as JSON.")
    ] = None,
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """Judge every past disclosure again under another rulebook."""
    from dataclasses import asdict

    from taxgate.rules.rulebook import shipped_rulebook
    from taxgate.services.reaudit import reaudit as run

    result = run(_ws(workdir, config), shipped_rulebook(rulebook))
    if result.refused:
        out.print(f"disclosures rulebook {result.rulebook_version} would have refused:")
    for f in result.refused:
        why = "; ".join(f.why) or ", ".join(f.codes)
        out.print(
            f"{f.request_id} ({f.agency}, batch {f.batch_id}, decided under "
            f"{f.original_rulebook}): {why}",
            markup=False,
            highlight=False,
        )
    out.print(
        f"{len(result.refused):,} of {result.disclosed:,} past disclosures would have been "
        f"refused under {result.rulebook_version} (logged as audit entry {result.audit_index})"
    )
    if out_file is not None:
        doc = {
            "rulebook_version": result.rulebook_version,
            "disclosed": result.disclosed,
            "refused": [asdict(f) for f in result.refused],
            "audit_index": result.audit_index,
        }
        out_file.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


@app.command()
def report(
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    year: Annotated[
        int | None, typer.Option(help="Only requests received in this calendar year (UTC).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only requests received on or after this date (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only requests received on or before this date (YYYY-MM-DD).")
    ] = None,
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """The oversight report over a period (default: everything processed)."""
    from taxgate.reports.oversight import Period
    from taxgate.services.oversight import write_report

    period = Period.of(year=year, since=since, until=until)
    n = write_report(_ws(workdir, config), out_file, period)
    out.print(f"wrote {out_file} ({n:,} decisions, period: {period.label})")


@app.command()
def transparency(
    year: Annotated[int, typer.Option(help="The calendar year (UTC) to report on.")],
    epsilon: Annotated[
        float, typer.Option(help="Privacy loss this release spends of the year's budget.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="FILE.html, or FILE.json for the machine-readable form.")
    ],
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """The public transparency report: yearly counts released with differential privacy.

    Refused (nothing written, nothing spent) when the release would overspend the year's
    privacy budget (transparency.yaml; default epsilon 1.0 per calendar year).
    """
    from taxgate.transparency import release

    rep = release(_ws(workdir, config), year, epsilon, out_file)
    r = rep.release
    out.print(
        f"wrote {out_file}: {rep.year} counts, {r.mechanism} noise, epsilon {r.epsilon:g}, "
        f"95% of counts within ±{r.accuracy:.1f}; budget {rep.year_budget:g}, "
        f"{rep.remaining:g} left for {rep.year}"
    )


@app.command("verify-response")
def verify_response_cmd(
    folder: Path,
    public_key: Annotated[
        Path | None, typer.Option(help="The tax agency's public key (default: this work folder's).")
    ] = None,
    workdir: Workdir = None,
) -> None:
    """Check a response folder against the tax agency's signature."""
    from taxgate.disclosure.response import verify_response
    from taxgate.intake.signing import load_public_key

    key = load_public_key(public_key) if public_key else _ws(workdir).agency_key().public_key()
    n = verify_response(folder, key)
    out.print(f"response verified: {n:,} disclosed requests, signature good")


# ---------------------------------------------------------------- demo


@app.command()
def demo(
    workdir: Workdir = None,
    taxpayers: Annotated[int, typer.Option(help="Taxpayers in the world.")] = 50_000,
    requests: Annotated[int, typer.Option(help="Requests in the batch.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """The whole pipeline on a synthetic world: summary and report."""
    from taxgate.demo import run_demo

    run_demo(
        _ws(workdir),
        taxpayers=taxpayers,
        requests=requests,
        seed=seed,
        console=out,
        progress=_progress,
    )


# ---------------------------------------------------------------- the service

users_app = typer.Typer(no_args_is_help=True, help="Users of the service and their roles.")
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="agency, officer, reviewer, auditor or admin.")],
    agency: Annotated[str | None, typer.Option(help="The agency code (agency users only).")] = None,
    workdir: Workdir = None,
) -> None:
    """Add a user; prints its token once (only its hash is stored)."""
    from taxgate.services.user_admin import create

    ws = _ws(workdir)
    with ws.transaction() as (s, log):
        token = create(s, log, name, role, agency, by=ws.user)
    err.print(f"user {name.strip()} ({role}) added; its token, shown this once:")
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(workdir: Workdir = None) -> None:
    """The service's users: name, role, agency and whether they may sign in."""
    from taxgate.services.user_admin import listing

    ws = _ws(workdir)
    with ws.transaction() as (s, _):
        rows = listing(s)
    if not rows:
        out.print("no users yet: add one with `taxgate users add NAME --role ROLE`")
        return
    table = Table("user", "role", "agency", "active", "added (UTC)")
    for u in rows:
        table.add_row(u.name, u.role, u.agency, "yes" if u.active else "no", u.created_at[:19])
    out.print(table)


@users_app.command("disable")
def users_disable(name: str, workdir: Workdir = None) -> None:
    """Disable a user: its token stops working at once."""
    from taxgate.services.user_admin import disable

    ws = _ws(workdir)
    with ws.transaction() as (s, log):
        changed = disable(s, log, name, by=ws.user)
    out.print(f"user {name.strip()} {'disabled' if changed else 'was already disabled'}")


@users_app.command("rotate")
def users_rotate(name: str, workdir: Workdir = None) -> None:
    """Give a user a new token (the old one stops working); prints it once."""
    from taxgate.services.user_admin import rotate

    ws = _ws(workdir)
    with ws.transaction() as (s, log):
        token = rotate(s, log, name, by=ws.user)
    err.print(f"user {name.strip()}: new token, shown this once:")
    sys.stdout.write(token + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run a background worker in the server (--no-worker: `taxgate worker` "
            "processes decide the queued batches).",
        ),
    ] = True,
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """Start the HTTP API and web pages (uvicorn), with the background worker."""
    import dataclasses

    import uvicorn

    from taxgate.server import create_app
    from taxgate.settings import ServiceSettings

    ws = _ws(workdir, config, user="taxgate-service", origin="api")
    ws.store  # noqa: B018  (open and migrate the store before listening)
    settings = ServiceSettings.from_env()
    settings = dataclasses.replace(settings, worker=settings.worker and worker)
    out.print(f"taxgate service on http://{host}:{port}/v1 (docs: /v1/docs, pages: /web/login)")
    uvicorn.run(create_app(ws, settings), host=host, port=port, access_log=False, log_level="info")


@app.command(name="worker")
def worker_command(workdir: Workdir = None, config: Config = None) -> None:
    """Decide queued batches in this process until stopped (beside `taxgate serve`).

    Workers claim jobs from the store one at a time, so several may run at once, on this
    machine or others sharing the store; a job whose worker dies is taken over.
    """
    import signal

    from taxgate.services.worker import Worker
    from taxgate.settings import ServiceSettings

    ws = _ws(workdir, config, user="taxgate-service", origin="api")
    ws.store  # noqa: B018  (open and migrate the store before claiming)
    runner = Worker(ws, ServiceSettings.from_env())
    signal.signal(signal.SIGTERM, lambda *_: runner.stop(timeout=0))
    out.print(f"taxgate worker {runner.name}: deciding queued batches (Ctrl-C to stop)")
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        ws.close()


# ---------------------------------------------------------------- witnesses (C2SP tlog-witness)

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
    from taxgate.errors import AuditError
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


@audit_app.command("cosign")
def audit_cosign(
    witness: Annotated[
        str, typer.Option("--witness", help="The witness's URL, or its folder (offline).")
    ],
    witness_key: Annotated[
        str, typer.Option("--witness-key", help="The witness's key (`taxgate witness init`).")
    ],
    workdir: Workdir = None,
    config: Config = None,
) -> None:
    """Have a witness cosign the latest checkpoint; the cosignature is kept with it."""
    from taxgate.services.witnessing import cosign_latest

    ws = _ws(workdir, config)
    ws.agency_key()
    got = cosign_latest(ws, witness, witness_key)
    out.print(f"checkpoint of size {got.size:,} cosigned by witness `{got.witness}`")


def _debug() -> bool:
    try:
        return load_settings().debug
    except TaxgateError:
        return False


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


def main() -> None:
    """Run the command line; errors are printed without personal data.

    taxgate's own errors carry messages written to hold none. Anything else could echo a
    value from the input, so only its type and where it was raised are printed (set
    ``TAXGATE_DEBUG=1`` to see the whole traceback on synthetic data).
    """
    import traceback

    try:
        command = typer.main.get_command(app)
        _tidy_help(command)
        command(prog_name="taxgate")
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


if __name__ == "__main__":
    main()
