"""The whole pipeline for one batch: intake -> rules -> match -> disclose -> audit -> report.

This is the only module that knows every stage. Each stage is pure; this module reads the
files, the store and the records, calls the stages, and writes decisions, disclosures and
their audit entries in one transaction per chunk, so that a crash leaves every request
either decided and logged or untouched, and a rerun finishes the batch without deciding
or disclosing anything twice (R-DUPLICATE returns the stored decision).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, cast, overload

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from taxgate import collector, holdback
from taxgate.audit import content
from taxgate.canonical import json_encoder
from taxgate.config import chunk_size, match_slice, writer_from
from taxgate.decision import final_decision, to_body
from taxgate.disclosure.plan import record_columns
from taxgate.disclosure.response import write_response
from taxgate.errors import ConflictError, ForbiddenError, InputError, StoreError, TaxgateError
from taxgate.intake.batch import RawBatch, parse_manifest, read_raw, read_requests
from taxgate.intake.signing import verify_manifest
from taxgate.records.lookup import TaxpayerRows
from taxgate.reports.aggregate import ReportData, Tally
from taxgate.reports.html import render_html
from taxgate.rules.evaluate import (
    BatchContext,
    History,
    case_key,
    evaluate_stream,
    officer_key,
    reason_key,
)
from taxgate.rules.rulebook import Rulebook
from taxgate.rules.safeguards import SafeguardStatus
from taxgate.settings import load_settings
from taxgate.storage import repo
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog, checkpoint_now, require_committed
from taxgate.storage.base import Base
from taxgate.storage.control import require_control
from taxgate.storage.publication import require_published
from taxgate.storage.record import (
    decision_values,
    disclosure_row,
    disclosure_values,
    log_decision,
    request_values,
)
from taxgate.types import BatchInfo, FinalDecision, MatchResult, Request, RuleDecision
from taxgate.workspace import Workspace
from taxgate.writer import ForkedWriter
from taxgate.writer import available as writer_available

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Checked:
    """A batch that passed intake: its manifest and requests, the signer's authority."""

    info: BatchInfo
    requests: list[Request]
    requester_authorized: bool
    signer: str
    authority: str = ""
    #: the bytes read (what the signature covers), for a writer process to parse the same
    #: requests from; dropped once handed over
    raw: RawBatch | None = None


def intake(
    ws: Workspace,
    folder: Path,
    *,
    log_refusal: bool = True,
    user: str | None = None,
    agency: str | None = None,
    verified: Callable[[RawBatch], None] | None = None,
) -> Checked:
    """Read and authenticate a batch folder; refuse it whole (and log that, unless
    ``log_refusal`` is false, as for ``check``, which stores nothing) if it fails.
    ``verified`` is handed the batch's bytes once their signature is checked, before they
    are parsed here (a batch's writer parses them meanwhile).

    ``user`` is who submitted it (the log's attribution; else the workspace's user);
    ``agency``, when given, is the only agency that submitter may submit for: a manifest
    naming another is refused as forbidden before anything is written about that batch.

    Raises:
        InputError: the batch is refused whole (logged).
        ForbiddenError: the manifest names an agency other than ``agency`` (not logged
            here: the service logs refusals, attributed to the submitter).
    """
    raw = read_raw(folder)
    try:
        info = parse_manifest(raw)
        if agency is not None and info.agency != agency:
            raise ForbiddenError(f"this token submits for agency `{agency}` only")
        with ws.transaction() as (s, _):
            # the keys are the ones the log registered
            require_control(s, ("officials",), signed_by=ws.agency_public_key())
            keys = repo.agency_keys(s, info.agency)
        signer = verify_manifest(raw.manifest, raw.requests_bytes, keys, file=raw.manifest_file)
        if verified is not None:
            verified(raw)
        requests = read_requests(raw)
        refuse_repeated_ids(requests, raw.requests_file)
    except InputError as e:
        if log_refusal:
            batch_id = raw.manifest.get("batch_id")
            if not isinstance(batch_id, str) or not batch_id.isprintable() or len(batch_id) > 200:
                batch_id = folder.name  # the manifest's own id only when it is a plain id
            where: dict[str, Any] = {"file": Path(e.file).name}
            if e.row is not None:
                where["row"] = e.row
            if e.position is not None:
                where["position"] = e.position
            if e.column:
                where["column"] = e.column
            if agency is not None:
                where["submitter_agency"] = agency
            with ws.transaction() as (_, log):
                log.append(
                    "batch_received",
                    batch_id,
                    {"error": e.reason, **where},
                    outcome="failure",
                    user=user,
                )
        raise
    authorized = signer.active and signer.official.casefold() == info.official.name.casefold()
    return Checked(info, requests, authorized, signer.official, signer.authority, raw)


def _rows_text(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:20])
    return shown + (f" and {len(rows) - 20} more" if len(rows) > 20 else "")


def refuse_repeated_ids(requests: Sequence[Request], file: str) -> None:
    """A batch that names one request id on several rows is refused whole: which of the
    rows would be answered is not for the gate to guess.

    Raises:
        InputError: naming the first repeated id's rows (and how many ids repeat).
    """
    if not requests:
        raise InputError("holds no requests: an empty batch is refused", file=file, row=2)
    rows: dict[str, list[int]] = {}
    for r in requests:
        rows.setdefault(r.request_id, []).append(r.row)
    repeated = [v for v in rows.values() if len(v) > 1]
    if repeated:
        more = f" ({len(repeated)} ids repeat)" if len(repeated) > 1 else ""
        raise InputError(
            f"one request id on rows {_rows_text(repeated[0])}{more}: "
            "each request needs its own id, the batch is refused",
            file=file,
            row=repeated[0][1],
            column="request_id",
        )


def reused_rows(ws: Workspace, checked: Checked) -> list[int]:
    """Rows whose request id this agency already used for a request with other content."""
    with ws.transaction() as (s, log):
        stored = repo.stored_requests(
            s, checked.info.agency, [r.request_id for r in checked.requests]
        )
        salt = log.salt() if any(content.is_purged(v) for v in stored.values()) else b""
    return [
        r.row
        for r in checked.requests
        if r.request_id in stored
        and not content.same_content(salt, stored[r.request_id], r.as_dict())
    ]


def refuse_reused_ids(ws: Workspace, checked: Checked, *, user: str | None = None) -> None:
    """Refuse (and log) a batch reusing the agency's request ids for other requests.

    Raises:
        ConflictError: naming the rows; nothing of the batch is stored or answered.
    """
    rows = reused_rows(ws, checked)
    if not rows:
        return
    with ws.transaction() as (_, log):
        log.append(
            "batch_received",
            checked.info.batch_id,
            {
                "agency": checked.info.agency,
                "error": "request ids reused for other requests",
                "rows": rows[:1000],
            },
            outcome="failure",
            user=user,
        )
    raise ConflictError(
        f"`requests.csv` rows {_rows_text(rows)}: request ids agency "
        f"`{checked.info.agency}` already used for other requests; a new request needs a "
        "new id, the batch is refused"
    )


def rule_history(
    s: Session, agency: str, rb: Rulebook, exclude_batch: str, at: datetime | None = None
) -> History:
    """What the rules count across batches: the agency's requests before ``at`` (now)."""
    h = repo.history(
        s, agency, rb.history_days, exclude_batch, at=at, agency_days=rb.agency_period_days
    )
    return History(
        reason_keys=h.reasons,
        case_counts=h.cases,
        officer_cases=h.officers,
        officer_requests=h.officer_requests,
        agency_requests=h.agency_requests,
    )


def safeguard_status(s: Session, agency: str) -> SafeguardStatus | None:
    """The agency's registered 6103(p)(4) safeguard status (``None``: none registered)."""
    row = s.get(m.Safeguard, agency)
    if row is None:
        return None
    return SafeguardStatus(
        date.fromisoformat(row.last_report), int(row.open_findings), bool(row.corrective_plan)
    )


def _rule_context(ws: Workspace, checked: Checked, today: date) -> tuple[BatchContext, History]:
    rb = ws.rulebook
    with ws.transaction() as (s, _):
        hist = rule_history(s, checked.info.agency, rb, checked.info.batch_id)
        require_control(s, ("safeguards",), signed_by=ws.agency_public_key())
        safeguards = safeguard_status(s, checked.info.agency)
    ctx = BatchContext(
        agency=checked.info.agency,
        requester_authorized=checked.requester_authorized,
        today=today,
        field_names=ws.catalogue.names(),
        requester_authority=checked.authority,
        safeguards=safeguards,
    )
    return ctx, hist


def _may_fork(ws: Workspace) -> bool:
    """Whether this process may fork helpers (the rules' workers, a batch's writer): not in
    the service, whose threads make forking unsafe."""
    return ws.origin != "api"


def _rules(
    ws: Workspace, requests: Sequence[Request], ctx: BatchContext, hist: History
) -> list[RuleDecision]:
    """The rule stage. Large batches fork workers for the per-request checks, except in the
    service, whose threads make forking unsafe: there the checks stay in one process."""
    workers = None if _may_fork(ws) else 1
    return evaluate_stream(requests, ctx, ws.rulebook, ws.statutes, hist, workers=workers)


def release_undecided(ws: Workspace, checked: Checked) -> bool:
    """Let a corrected batch replace an earlier receipt of the same id that nothing was
    decided for (its run failed, for example with no records loaded, or stopped before its
    first decision); the release is logged. A batch with any decision keeps its content:
    other content under its id is refused (:func:`_register_batch`). True when released.
    """
    info = checked.info
    with ws.transaction() as (s, log):
        existing = s.get(m.Batch, info.batch_id)
        if (
            existing is None
            or existing.state == "done"
            or existing.agency_code != info.agency
            or existing.requests_sha256 == info.requests_sha256
        ):
            return False
        ids = repo.batch_request_ids(s, info.batch_id)
        if repo.decided_ids(s, info.agency, ids):
            return False
        repo.drop_batch(s, info.batch_id)
        log.append(
            "batch_released",
            info.batch_id,
            {
                "agency": info.agency,
                "requests": len(ids),
                "requests_sha256": existing.requests_sha256,
                "why": "nothing was decided; sent again with other content",
            },
        )
    return True


@dataclass(frozen=True, slots=True)
class Registered:
    """The requests a batch stored just now: when, and each one's derived keys (reason,
    case, officer), from which :func:`request_row` gives its stored row without reading
    it back. A request stored before (by an earlier receipt) is not here."""

    received_at: str = ""
    keys: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)

    def request_row(self, info: BatchInfo, r: Request) -> dict[str, Any] | None:
        """The stored ``requests`` row of ``r`` (None: stored before, read it back)."""
        keys = self.keys.get(r.request_id)
        return None if keys is None else _request_row(info, r, self.received_at, keys)


def _request_row(
    info: BatchInfo, r: Request, received_at: str, keys: tuple[str, str, str]
) -> dict[str, Any]:
    """The ``requests`` row of ``r``; ``keys``: its reason, case and officer keys."""
    return {
        "request_id": r.request_id,
        "batch_id": info.batch_id,
        "row": r.row,
        "agency_code": info.agency,
        "received_at": received_at,
        "payload": r.as_dict(),
        "reason_key": keys[0],
        "case_key": keys[1],
        "officer_key": keys[2],
    }


_REGISTER_SLICE = 50_000


def _insert(s: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One multi-row insert through Core: the ORM's bulk path costs about twice as much per
    row, and these are a batch's millions of rows (column types apply the same)."""
    s.execute(insert(cast(Table, model.__table__)), rows)


def request_keys(r: Request) -> tuple[str, str, str]:
    """A request's derived keys as stored with it: its reason, case and officer keys."""
    return reason_key(r), case_key(r.case_number), officer_key(r.officer)


def _register_batch(
    ws: Workspace,
    checked: Checked,
    unique: Sequence[Request],
    made: Mapping[str, tuple[str, str, str]] | None = None,
) -> Registered:
    """Store the batch and its requests once (idempotent on the same id and content);
    ``made``: derived keys (:func:`request_keys`) made already, by request id."""
    made = made or {}
    info = checked.info
    with ws.transaction() as (s, log):
        existing = s.get(m.Batch, info.batch_id)
        if existing is not None:
            if (
                existing.requests_sha256 != info.requests_sha256
                or existing.agency_code != info.agency
            ):
                raise ConflictError(
                    f"batch `{info.batch_id}` was already received with other content"
                )
            return Registered()
        now = repo.now_iso()
        batch_row: dict[str, Any] = {
            "batch_id": info.batch_id,
            "agency_code": info.agency,
            "official_name": info.official.name,
            "official_title": info.official.title,
            "official_authority": checked.authority,
            "submitted_at": info.submitted_at,
            "requests_sha256": info.requests_sha256,
            "received_at": now,
            "request_count": len(checked.requests),
            "submitted_by": checked.signer,
            "processed_by": ws.user,
        }
        s.add(m.Batch(**batch_row, state="processing"))
        s.flush()
        known = set(repo.stored_requests(s, info.agency, [r.request_id for r in unique]))
        keys: dict[str, tuple[str, str, str]] = {}
        # a slice of rows at a time (one transaction all the same): a million rows with
        # their payloads built at once cost gigabytes
        for lo in range(0, len(unique), _REGISTER_SLICE):
            fresh: list[dict[str, Any]] = []
            for r in unique[lo : lo + _REGISTER_SLICE]:
                if r.request_id not in known:
                    derived = made.get(r.request_id) or request_keys(r)
                    keys[r.request_id] = derived
                    fresh.append(_request_row(info, r, now, derived))
            if fresh:
                _insert(s, m.RequestRow, fresh)
            del fresh
        _log_rulebook(ws, s, log)
        log.append(
            "batch_received",
            info.batch_id,
            {
                "agency": info.agency,
                "official": checked.signer,
                "authority": checked.authority,
                "requests": len(checked.requests),
                "requests_sha256": info.requests_sha256,
                "requester_authorized": checked.requester_authorized,
                "content": {"batch": log.content(batch_row, content.BATCH_COLUMNS)},
            },
        )
    return Registered(now, keys)


def _log_rulebook(ws: Workspace, s: Session, log: AuditLog) -> None:
    """Log a rulebook change the first time a batch is judged under another version."""
    rb = ws.rulebook
    digest = hashlib.sha256(ws.rulebook_file.read_bytes()).hexdigest()
    current = f"{rb.version}:{digest}"
    if repo.get_setting(s, "rulebook_in_use") != current:
        log.append("rulebook_change", rb.version, {"version": rb.version, "sha256": digest})
        repo.set_setting(s, "rulebook_in_use", current)


def decide(
    ws: Workspace,
    rule: RuleDecision,
    match: MatchResult | None,
    rows: Mapping[str, list[dict[str, Any]]],
    held: frozenset[str] = frozenset(),
) -> FinalDecision:
    """The final decision on one request, from the rows of its candidate taxpayer;
    ``held``: the TINs under the 6103(i)(6) holdback (:mod:`taxgate.holdback`)."""
    candidate = (match.tin or "") if match is not None else ""
    return final_decision(
        rule,
        match,
        rows.get(candidate, []) if candidate else [],
        ws.catalogue,
        citations=ws.rulebook.citations,
        rulebook_version=ws.rulebook.version,
        held=bool(candidate) and candidate in held,
    )


#: One decision ready to be written: its body (without audit index), candidate TIN, runner-up
#: TIN (kept only for a review), the response line that goes out (``None``: nothing), and
#: when the decider made them (else ``None``: the writer makes them), the digests of the
#: decision row and of the disclosure row that the log commits to, but for their time.
Ready = tuple[
    dict[str, Any], str, str, dict[str, Any] | None, dict[str, str] | None, dict[str, str] | None
]
#: The stored ``requests`` rows of some request ids, read in the writer's transaction.
RequestRows = Callable[[Session, list[str]], Mapping[str, Mapping[str, Any]]]
_UNTIMED_DECISION = tuple(c for c in content.DECISION_COLUMNS if c != "decided_at")
_UNTIMED_DISCLOSURE = tuple(c for c in content.DISCLOSURE_COLUMNS if c != "disclosed_at")


def ready(
    fd: FinalDecision, batch: BatchInfo, digest: tuple[bytes, dict[str, str]] | None = None
) -> Ready:
    """What :func:`commit_ready` needs of a final decision: plain values, handed to the
    writer process as pickled bytes (:mod:`taxgate.writer`). ``digest``: the log's salt and
    a memo, to make the rows' digests here (when the writer lags behind the decider)."""
    body = to_body(fd)
    tin = fd.candidate
    runner_up = fd.runner_up if fd.status == "PENDING_REVIEW" else ""
    response = fd.response_line()
    committed = sent = None
    if digest is not None:
        salt, memo = digest
        row = decision_values(body, batch.batch_id, batch.agency, tin, "", runner_up)
        committed = content.digests(salt, row, _UNTIMED_DECISION, memo)
        if response is not None:
            out = disclosure_values(body, response, batch.batch_id, batch.agency, tin, "")
            sent = content.digests(salt, out, _UNTIMED_DISCLOSURE, memo)
    return body, tin, runner_up, response, committed, sent


def commit_decisions(
    ws: Workspace, batch: BatchInfo, decided: Sequence[FinalDecision]
) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Write decisions, disclosures and their audit entries in one transaction; each
    decision's stored line and the response line that went out (if any)."""
    prepared = [ready(fd, batch) for fd in decided]

    def stored(s: Session, ids: list[str]) -> Mapping[str, Mapping[str, Any]]:
        return request_values(s, batch.agency, ids)

    commit_ready(ws, batch, prepared, stored)
    return [(body, response) for body, _, _, response, _, _ in prepared]


def commit_ready(
    ws: Workspace, batch: BatchInfo, decided: Sequence[Ready], requests: RequestRows
) -> None:
    """Write decisions made :func:`ready`, their disclosures and audit entries in one
    transaction; each body gets its audit index. ``requests``: the stored request rows,
    whose digests the decisions' entries commit to.

    Rows go in as one multi-row insert per table (no per-object unit of work).
    """
    with ws.transaction() as (s, log):
        now = repo.now_iso()  # one moment for the chunk: its rows and its entries
        salt = log.salt()
        memo: dict[str, str] = {}  # a text's digest, made once per chunk
        received = requests(s, [d[0]["request_id"] for d in decided])
        decisions: list[dict[str, Any]] = []
        disclosures: list[dict[str, Any]] = []
        stamp = content.digests(salt, {"decided_at": now}, ("decided_at",), memo)["decided_at"]
        for body, tin, runner_up, response, made, sent in decided:
            row = decision_values(body, batch.batch_id, batch.agency, tin, now, runner_up)
            if made is None:
                made = content.digests(salt, row, content.DECISION_COLUMNS, memo)
            else:  # the decider made the row's digests: the moment is the same text's
                made["decided_at"] = stamp
            request = received[body["request_id"]]
            committed = {
                "request": content.digests(salt, request, content.REQUEST_COLUMNS, memo),
                "decision": made,
            }
            index = log_decision(log, row, None, at=now, committed=committed)
            body["audit_index"] = row["audit_index"] = index
            decisions.append(row)
            if response is not None:
                if sent is None:
                    out = disclosure_values(body, response, batch.batch_id, batch.agency, tin, now)
                    sent = content.digests(salt, out, content.DISCLOSURE_COLUMNS, memo)
                else:
                    sent["disclosed_at"] = stamp
                disclosures.append(
                    disclosure_row(
                        log,
                        body,
                        response,
                        batch.batch_id,
                        batch.agency,
                        tin,
                        at=now,
                        committed=sent,
                    )
                )
        if decisions:
            _insert(s, m.Decision, decisions)
        if disclosures:
            _insert(s, m.Disclosure, disclosures)


DECISIONS_FILE = "decisions.jsonl"
#: Requests from which a batch's long-lived objects are frozen out of the cyclic collector.
FREEZE_FROM = 20_000
#: Decided requests that may wait for the writer (as pickled bytes, about 1 KB each), at the
#: least; a whole slice may (:func:`writer_backlog`).
WRITER_BACKLOG = 64_000
_line_text = json_encoder(allow_nan=True)


def _line(body: Mapping[str, Any]) -> str:
    """One ``decisions.jsonl`` line: the stored decision body, compact, without the rule
    checks that passed with nothing to say (a third of a line).

    Every field of the contract is there as stored (request id, status, reasons, match,
    disclosed and withheld fields, rulebook version, audit index); the trace keeps each
    check that failed or says something (the requester's authority, say). The stored body,
    which the log commits to, keeps the whole trace (``taxgate disclosures --request``,
    the decision's page).
    """
    trace = body.get("trace")
    if isinstance(trace, list):
        body = {
            **body,
            "trace": [
                c
                for c in trace
                if not (isinstance(c, Mapping) and c.get("passed") is True and not c.get("detail"))
            ],
        }
    return _line_text(body) + "\n"


class DecisionFile(Sequence[dict[str, Any]]):
    """A batch's decision lines in a file, read back line by line when iterated (a batch of
    a million decisions is never held in memory whole)."""

    def __init__(self, path: Path, count: int) -> None:
        self.path = path
        self._count = count
        self._cached: list[dict[str, Any]] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._cached is not None:
            yield from self._cached
            return
        with self.path.open(encoding="utf-8") as f:
            for text in f:
                yield json.loads(text)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if self._cached is None:
            self._cached = list(iter(self))
        return self._cached[index]

    def publish(self, path: Path) -> None:
        """Move the file (flushed to disk first) to ``path`` in one rename."""
        with self.path.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(self.path, path)
        self.path = path


class DecisionLines:
    """The decision lines of a batch as they are decided: appended to
    ``OUT_DIR/decisions.jsonl.part`` (published by :func:`write_outputs`), or kept in a list
    when there is no output folder (the service's batches)."""

    def __init__(self, out_dir: Path | None) -> None:
        self._kept: list[dict[str, Any]] | None = None
        self._file: IO[str] | None = None
        self._count = 0
        self._made: Path | None = None
        if out_dir is None:
            self._kept = []
            self._part = Path()
        else:
            self._made = out_dir if not out_dir.exists() else None  # removed if discarded
            out_dir.mkdir(parents=True, exist_ok=True)
            self._part = out_dir / (DECISIONS_FILE + ".part")
            self._file = self._part.open("w", encoding="utf-8")

    def discard(self) -> None:
        """Close and remove the unfinished file (the batch failed: nothing half-written)."""
        if self._file is not None:
            self._file.close()
            self._part.unlink(missing_ok=True)
            self._part.with_name(self._part.name + "2").unlink(missing_ok=True)
            if self._made is not None and not any(self._made.iterdir()):
                self._made.rmdir()  # a refused batch leaves no output folder behind

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Close the file (the writer process, after its last line)."""
        if self._file is not None:
            self._file.close()

    def adopt(self, count: int) -> None:
        """Count the ``count`` lines a writer process added to the file as added here."""
        self._count = count

    def add(self, body: dict[str, Any]) -> None:
        self._count += 1
        if self._file is not None:
            self._file.write(_line(body))
        elif self._kept is not None:
            self._kept.append(body)

    def finish(
        self, order: Sequence[str], earlier: Mapping[str, dict[str, Any]]
    ) -> Sequence[dict[str, Any]]:
        """Every request's line in ``order``: the new ones as added (in that order), the
        ``earlier`` ones (decided before: R-DUPLICATE) from their stored bodies."""
        if self._kept is not None:
            fresh = iter(self._kept)
            return [earlier[rid] if rid in earlier else next(fresh) for rid in order]
        assert self._file is not None
        self._file.close()
        if not earlier:
            return DecisionFile(self._part, self._count)
        merged = self._part.with_name(self._part.name + "2")
        with self._part.open(encoding="utf-8") as new, merged.open("w", encoding="utf-8") as f:
            for rid in order:
                f.write(_line(earlier[rid]) if rid in earlier else next(new))
        os.replace(merged, self._part)
        return DecisionFile(self._part, len(order))


def writer_backlog() -> int:
    """How many decided requests may wait for the writer: a whole slice (at least
    :data:`WRITER_BACKLOG`). The batch's process decides a slice without waiting, then
    matches the next while the writer works the slice off: with a third of a slice, the
    writer sat idle at every slice's end of matching (nothing decided yet) and the batch's
    process sat waiting on it through most of the deciding (each about 15 s a slice at full
    size, two fifths of a core in all)."""
    return max(WRITER_BACKLOG, match_slice())


class _Writes:
    """A batch's store writes, in order: its requests first (:func:`_register_batch`), then
    each decided chunk with its lines in ``decisions.jsonl``.

    Done here, or by a forked writer (:mod:`taxgate.writer`) for a large batch: it stores
    the requests while this process judges them by the rules, and writes each chunk while
    this process decides the next. The writer is forked before the batch is read, while
    this process is small (pages the two processes shared would be copied as this one
    changed them: gigabytes at full size); it parses the requests itself from the bytes
    this process read and checked, makes the digests of the requests as it stores them,
    and adds each chunk's lines once their audit indexes are known.
    """

    def __init__(self, ws: Workspace, lines: DecisionLines) -> None:
        self._ws = ws
        self._lines = lines
        self._checked: Checked | None = None
        self._registered = Registered()
        self._by_id: dict[str, Request] = {}
        self._prefetched = False  # the writer was sent the batch's bytes to parse early
        self._parsed: list[Request] | None = None  # in the writer: what it parsed early
        self._made: dict[str, tuple[str, str, str]] = {}  # and the requests' derived keys
        self._forked: ForkedWriter[object, int] | None = None
        self._added = 0  # lines the writer added
        if _may_fork(ws) and writer_available():
            lines.flush()  # nothing of this process's is buffered in the file it inherits
            # the store opened (and migrated, after an upgrade) here, once: a writer that
            # opened it first would migrate it while this process did the same
            ws.store  # noqa: B018

            def start() -> None:
                ws.store.engine.dispose(close=False)  # the parent's connections stay its own

            self._forked = ForkedWriter(
                self._write,
                done=self._count,
                start=start,
                finish=lines.close,
                window=max(2, writer_backlog() // chunk_size()),
            )

    def prefetch(self, raw: RawBatch) -> None:
        """Hand the batch's bytes (their signature checked) to the writer, which parses
        them and makes the requests' derived keys while this process parses them too: the
        writer's first job, done while it would otherwise wait for :meth:`register`."""
        if self._forked is not None:
            self._forked.send(raw)
            self._prefetched = True

    def register(self, checked: Checked) -> Checked:
        """Store the batch and its requests (the writer's first job for a large batch:
        a refusal, such as other content under the batch's id, comes back at a later
        :meth:`send` or :meth:`finish`); ``checked`` without its bytes.

        Raises:
            ConflictError: the batch was received before with other content (here).
        """
        light = replace(checked, raw=None)
        if self._forked is not None and len(checked.requests) < writer_from():
            self._forked.close()  # a small batch: written here
            self._forked = None
        if self._forked is not None:
            parse = None if self._prefetched else checked.raw  # parsed already, or now
            self._forked.send([replace(light, requests=[]), parse])
        else:
            self._write([light, None])
        return light

    def _write(self, job: object) -> int:
        if isinstance(job, RawBatch):  # in the writer, early: the same requests, from the
            self._parsed = read_requests(job)  # same bytes, as the decider parses them
            self._made = {r.request_id: request_keys(r) for r in self._parsed}
            return 0
        if isinstance(job, list) and isinstance(job[0], Checked):
            raw = job.pop()  # the batch's bytes, held by nothing else once parsed
            checked = job[0]
            if raw is not None:  # in the writer: the same requests, from the same bytes
                checked = replace(checked, requests=read_requests(raw))
            elif self._parsed is not None:  # in the writer: parsed early
                checked = replace(checked, requests=self._parsed)
            del raw
            self._parsed = None
            self._checked = checked
            self._registered = _register_batch(self._ws, checked, checked.requests, self._made)
            self._made = {}
            self._by_id = {r.request_id: r for r in checked.requests}
            return 0
        assert self._checked is not None
        chunk: Sequence[Ready] = job  # type: ignore[assignment]
        commit_ready(self._ws, self._checked.info, chunk, self._requests)
        for d in chunk:
            self._lines.add(d[0])
        return len(chunk)

    def _requests(self, s: Session, ids: list[str]) -> Mapping[str, Mapping[str, Any]]:
        assert self._checked is not None
        info = self._checked.info
        out: dict[str, Mapping[str, Any]] = {}
        again = []
        for rid in ids:
            row = self._registered.request_row(info, self._by_id[rid])
            if row is None:
                again.append(rid)
            else:
                out[rid] = row
        if again:  # stored by an earlier receipt: as stored then
            out.update(request_values(s, info.agency, again))
        return out

    def _count(self, added: int) -> None:
        self._added += added

    def behind(self, *, last: bool) -> bool:
        """Whether the writer lags, so that this process should make the rows' digests
        itself (they are the same wherever made).

        While this process matches the next slice, the writer works off what waits for it:
        so before the last slice it lags only from three quarters of its window on (this
        process then takes the digests over until the two meet, rather than wait on a full
        window; at full size the writer had time to spare when it lagged from half).
        ``last``: the batch's last slice is being decided; nothing comes after it to work
        a backlog off while this process waits, so any chunk waiting is a lag.
        """
        if self._forked is None:
            return False
        waiting = self._forked.behind()
        return waiting > 0 if last else 4 * waiting >= 3 * self._forked.window

    def send(self, chunk: list[Ready], *, last: bool) -> None:
        """Hand a decided chunk to the writer (or write it here). ``last``: the batch's
        last slice; at most two chunks wait then (a backlog would be waited for at the end,
        with nothing left to overlap it)."""
        if self._forked is not None:
            self._forked.send(chunk, window=2 if last else None)
        else:
            self._write(chunk)

    def finish(self) -> None:
        """Wait until everything sent is written and its lines added."""
        if self._forked is not None:
            self._forked.close()
            self._forked = None
            self._lines.adopt(self._added)

    def abort(self) -> None:
        if self._forked is not None:
            self._forked.abort()
            self._forked = None


@dataclass(frozen=True, slots=True)
class Outcome:
    batch_id: str
    decisions: Sequence[dict[str, Any]]
    new: int
    repeated: int
    disclosed: int
    out_dir: Path | None
    checkpoint: str
    #: the report's numbers of the batch's decisions (counted as they were made), and how
    #: many reasons gave each code
    report: ReportData
    reasons: Mapping[str, int] = field(default_factory=dict)
    #: why the response was held (publish before disclose), "" when it was written
    held: str = ""
    notices: tuple[str, ...] = ()  # warnings for the operator (never personal data)


def process(
    ws: Workspace,
    folder: Path,
    out_dir: Path | None,
    *,
    engine: str = "duckdb",
    today: date | None = None,
    progress: Progress | None = None,
    warm: bool = False,
) -> Outcome:
    """Run a batch through every stage and write its outputs to ``out_dir``.

    The configuration is compiled first, whether or not anything is left to judge: a
    rulebook that switches off a statutory rule is refused before the batch is touched.
    ``warm``: keep the matching scorer for the next batch in this process (the service's
    workers; :mod:`taxgate.matching.warm`).
    """
    ws.compile_configuration()
    today = today or datetime.now(UTC).date()
    say = progress or (lambda _stage, _done, _total: None)
    key = ws.agency_key()
    with ws.transaction() as (s, _):
        # the log signed before the batch relies on it: the control checks hold what they
        # replay to the latest checkpoint (entries a killed run left unsigned included)
        checkpoint_now(s, key)
    lines = DecisionLines(out_dir)
    writes = _Writes(ws, lines)  # forked now (a large batch's writer), while this is small
    try:
        checked = intake(ws, folder, verified=writes.prefetch)
        info = checked.info
        release_undecided(ws, checked)
        refuse_reused_ids(ws, checked)
        with ws.transaction() as (s, log):
            salt = log.salt()  # made (and its making logged) before the writer needs it
            earlier = repo.decided_ids(s, info.agency, [r.request_id for r in checked.requests])
        checked = writes.register(checked)  # the batch stored first
        unique = list(checked.requests)  # intake refused a batch repeating an id
        pending = [r for r in unique if r.request_id not in earlier]
        say("rules", 0, len(unique))
        rules: dict[str, RuleDecision] = {}
        if pending:  # a batch decided before is only read back
            ctx, hist = _rule_context(ws, checked, today)
            rules = {
                d.request_id: d
                for d in _rules(ws, unique, ctx, hist)
                if d.request_id not in earlier
            }
    except BaseException:
        writes.abort()
        lines.discard()
        raise
    say("rules", len(unique), len(unique))
    notices: list[str] = []
    chunk = chunk_size()
    # A large batch is matched a slice at a time (one warm scorer for all its slices) and
    # each slice decided before the next is matched: its match results are never all in
    # memory at once. A request's result does not depend on the others matched with it.
    per_slice = match_slice()
    keep_warm = warm or len(pending) > per_slice
    disclosures: dict[str, dict[str, Any]] = {}  # request id -> response line that went out
    tally = Tally()  # the report's counts, taken as decided (the file is never read back)
    slices = 0  # slices matched so far
    # What is alive now lives as long as the batch (its requests, their rule verdicts: a
    # million of each at full size, none in a reference cycle). Frozen, the cyclic
    # collector stops walking them again at every full collection of the decide loop
    # (14 % of `process` at 128,000 requests); what the loop makes is collected as before.
    # A small batch is decided before a full collection would come round: the collection
    # that freezing needs first (a tenth of a second in a warm worker's heap) is not paid.
    freeze = len(pending) >= FREEZE_FROM
    if freeze:
        gc.collect()  # what earlier stages left in cycles goes first, not into the frozen set
        gc.freeze()
    try:
        for lo in range(0, len(pending), per_slice):
            part_of = pending[lo : lo + per_slice]
            accepted = [
                (r, rules[r.request_id].tax_years)
                for r in part_of
                if rules[r.request_id].outcome != "rejected"
            ]
            matches: dict[str, MatchResult] = {}
            if accepted:
                # a slice's match results (and their evidence) are made at once and all kept:
                # no full collection walks them while they are made (a cycle made meanwhile
                # is collected after); they are frozen below
                with collector.paused(freeze):
                    results = _match(
                        ws, accepted, engine, say, notices, keep_warm, first=not slices
                    )
                matches = {mr.request_id: mr for mr in results}
                slices += 1
                del results
            del accepted
            if freeze:
                gc.freeze()  # the slice's match results, kept until it is decided
            matched = [mr.tin for mr in matches.values() if mr.tin]
            with ws.transaction() as (s, _):
                # a holdback deleted outside taxgate stops
                require_control(s, ("holdbacks",), signed_by=ws.agency_public_key())
                held = holdback.held(s, matched)
            last = lo + per_slice >= len(pending)  # the batch's last slice
            # the records columns the slice's disclosures need, nothing else of the rows
            needed = record_columns(
                (f for r in part_of for f in rules[r.request_id].fields), ws.catalogue
            )
            with TaxpayerRows(ws.paths.records, matched, needed) as found:
                for start in range(0, len(part_of), chunk):
                    part = part_of[start : start + chunk]
                    tins = [
                        matches[r.request_id].tin or "" for r in part if r.request_id in matches
                    ]
                    rows = found.rows(tins)
                    # the writer lagging, the rows' digests are made here (they are the
                    # same wherever made): each process does what the other cannot take
                    digest: tuple[bytes, dict[str, str]] | None = (
                        (salt, {}) if writes.behind(last=last) else None
                    )
                    decided = [
                        ready(
                            decide(
                                ws,
                                rules.pop(r.request_id),
                                matches.pop(r.request_id, None),
                                rows,
                                held,
                            ),
                            info,
                            digest,
                        )
                        for r in part
                    ]
                    for r, (body, _, _, response, _, _) in zip(part, decided, strict=True):
                        if response is not None:
                            disclosures[body["request_id"]] = response
                        tally.add(body, {"agency": info.agency, "statute": r.statute})
                    writes.send(decided, last=last)
                    if freeze:
                        # what lives on (the slice's matches, the responses kept for the
                        # output) leaves the collector's walk: unfrozen, every growth by a
                        # quarter of the little left unfrozen set off a full collection
                        # that walked it all again (a tenth of this process at 128,000)
                        gc.freeze()
                    done = lo + min(start + chunk, len(part_of))
                    say("decide", done, len(pending))
        del rules
        writes.finish()
        with ws.transaction() as (s, log):
            batch = s.get(m.Batch, info.batch_id)
            if batch is not None and batch.state != "done":
                batch.state = "done"
            # what was answered before is answered again only as the log committed to it
            old = repo.stored_decisions(s, info.agency, sorted(earlier))
            sent = repo.disclosures_for(s, info.agency, sorted(earlier))
            require_committed(s, decisions=list(old.values()), disclosures=list(sent.values()))
            gone = sorted(k for k, x in sent.items() if content.is_purged(x.payload))
            if gone:
                raise ConflictError(
                    f"batch `{info.batch_id}`: {len(gone)} requests were answered before and their "
                    "disclosed values purged under the retention policy; they cannot be answered "
                    f"again (first: `{gone[0]}`)"
                )
            earlier_bodies = {k: dict(d.body) for k, d in old.items()}
            for r in checked.requests:
                if r.request_id in earlier_bodies:
                    tally.add(earlier_bodies[r.request_id], {"agency": info.agency,
                                                            "statute": r.statute})  # fmt: skip
            disclosures.update((k, dict(x.payload)) for k, x in sent.items())
            for r in checked.requests:
                if r.request_id in earlier:
                    log.append(
                        "duplicate_request",
                        r.request_id,
                        {"batch_id": info.batch_id, "agency": info.agency, "code": "R-DUPLICATE"},
                    )
        with ws.transaction() as (s, _):
            cp = checkpoint_now(s, key)
        decisions = lines.finish([r.request_id for r in checked.requests], earlier_bodies)
    except BaseException:
        writes.abort()
        lines.discard()
        raise
    finally:
        if freeze:
            gc.unfreeze()
        if keep_warm and not warm:  # the scorer was this batch's only
            from taxgate.matching.warm import release

            release()
    response_lines = [disclosures[r.request_id] for r in unique if r.request_id in disclosures]
    del disclosures
    on_hold = ""
    if response_lines and ws.rulebook.publish_before_disclose:
        with ws.transaction() as (s, _):
            sent = repo.disclosures_for(
                s, info.agency, [str(x["request_id"]) for x in response_lines]
            )
            try:
                require_published(s, ws.rulebook, [d.audit_index for d in sent.values()])
            except ConflictError as e:
                on_hold = e.reason
    report = tally.report(
        title=f"Batch {info.batch_id}", generated_at=repo.now_iso(), audit={"checkpoint": cp}
    )
    if out_dir is not None:
        write_outputs(ws, out_dir, info, decisions, response_lines, report, held=bool(on_hold))
    return Outcome(
        batch_id=info.batch_id,
        decisions=decisions,
        report=report,
        reasons=MappingProxyType(dict(tally.reasons)),
        new=len(pending),
        repeated=len(unique) - len(pending),
        disclosed=len(response_lines),
        out_dir=out_dir,
        checkpoint=cp,
        held=on_hold,
        notices=tuple(notices),
    )


def _match(
    ws: Workspace,
    accepted: Sequence[tuple[Request, tuple[int, ...]]],
    engine: str,
    say: Progress,
    notices: list[str],
    warm: bool = False,
    *,
    first: bool = True,
) -> list[MatchResult]:
    from taxgate.matching.decide import Thresholds
    from taxgate.matching.match import match_requests

    if not ws.paths.records.exists():
        raise StoreError("no taxpayer records loaded: run `taxgate records load FILE` first")
    if not ws.paths.model.exists():
        notices.extend(train(ws, engine=engine, progress=say).notes)
    elif first and trained_on(ws) != records_digest(ws.paths.records):
        notices.append(
            "the taxpayer records changed since the matching model was trained: matched with "
            "the model trained on the earlier records (`taxgate model train` retrains it)"
        )
    mt = ws.rulebook.matching
    thresholds = Thresholds(
        match_threshold=mt.match_threshold,
        ambiguity_threshold=mt.ambiguity_threshold,
        review_threshold=mt.review_threshold,
        policy=ws.rulebook.identity,
    )
    return match_requests(
        accepted,
        ws.paths.records,
        ws.paths.model,
        thresholds,
        engine=engine,
        spark_master=load_settings().spark_master,
        progress=lambda stage, frac: say(f"match: {stage}", int(frac * 100), 100),
        warm=warm,
    )


@dataclass(frozen=True, slots=True)
class Trained:
    version: str
    notes: tuple[str, ...]  # Splink's warnings, one line each


def records_digest(records: Path) -> str:
    """SHA-256 of the loaded records file (which records a model was trained on)."""
    digest = hashlib.sha256()
    with records.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def trained_on(ws: Workspace) -> str | None:
    """The SHA-256 of the records the current model was trained on (None: not recorded)."""
    try:
        doc = json.loads(ws.paths.model_records.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc.get("records_sha256") if isinstance(doc, dict) else None


def train(
    ws: Workspace, *, engine: str = "duckdb", seed: int = 42, progress: Progress | None = None
) -> Trained:
    """Train the matching model on the loaded records, save it with which records it was
    trained on, and log the change."""
    from taxgate.matching.splink_model import SplinkNotes, train_model

    if not ws.paths.records.exists():
        raise StoreError("no taxpayer records loaded: run `taxgate records load FILE` first")
    say = progress or (lambda _stage, _done, _total: None)
    ws.paths.model.parent.mkdir(parents=True, exist_ok=True)
    digest = records_digest(ws.paths.records)
    notes = SplinkNotes()
    info = train_model(
        ws.paths.records,
        ws.paths.model,
        seed=seed,
        engine=engine,
        spark_master=load_settings().spark_master,
        progress=lambda stage, frac: say(f"train: {stage}", int(frac * 100), 100),
        notes=notes,
    )
    _atomic_write(
        ws.paths.model_records,
        (json.dumps({"records_sha256": digest, "model": info.version}) + "\n").encode(),
    )
    with ws.transaction() as (_, log):
        log.append(
            "model_change",
            "matching-model",
            {
                "version": info.version,
                "sha256": info.sha256,
                "seed": seed,
                "engine": engine,
                "records_sha256": digest,
            },
        )
    return Trained(info.version, notes.summary())


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_outputs(
    ws: Workspace,
    out_dir: Path,
    info: BatchInfo,
    decisions: Sequence[Mapping[str, Any]],
    response_lines: Sequence[Mapping[str, Any]],
    report: ReportData,
    *,
    held: bool = False,
) -> None:
    """Write decisions, response and report (``report``: the decisions' numbers, counted as
    they were made); a ``held`` response (publish before disclose) is not written, and an
    earlier one in ``out_dir`` is removed so none is sent by mistake."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(decisions, DecisionFile):
        decisions.publish(out_dir / DECISIONS_FILE)
    else:
        data = "".join(_line(d) for d in decisions)
        _atomic_write(out_dir / DECISIONS_FILE, data.encode("utf-8"))
    key = ws.agency_key()
    from taxgate.disclosure.response import key_id_for

    if held:
        for name in ("response.jsonl", "response-manifest.json"):
            (out_dir / name).unlink(missing_ok=True)
    else:
        write_response(
            out_dir, info.batch_id, info.agency, response_lines, key, key_id_for(key.public_key())
        )
    t = ws.rulebook.matching
    marks = {
        f"disclose at {t.match_threshold:g}": t.match_threshold,
        f"review at {t.review_threshold:g}": t.review_threshold,
    }
    page = render_html(report, thresholds=marks)
    _atomic_write(out_dir / "report.html", page.encode("utf-8"))


__all__ = ["Checked", "Outcome", "TaxgateError", "commit_decisions", "decide", "intake", "process"]


def rule_line(d: RuleDecision) -> dict[str, Any]:
    """A rule-stage decision as a JSON line (``taxgate check``)."""
    status = {"rejected": "REJECTED", "review": "PENDING_REVIEW"}.get(d.outcome)
    return {
        "request_id": d.request_id,
        "outcome": d.outcome,
        "status": status,
        "reasons": [r.as_dict() for r in d.reasons],
        "tax_years": list(d.tax_years),
        "fields": list(d.fields),
        "rulebook_version": d.rulebook_version,
        "trace": [{"code": t.code, "passed": t.passed, "detail": t.detail} for t in d.trace],
    }


def check_batch(ws: Workspace, folder: Path, today: date | None = None) -> list[dict[str, Any]]:
    """The rules alone over a batch: nothing is stored, matched or disclosed, nor logged."""
    checked = intake(ws, folder, log_refusal=False)
    ctx, hist = _rule_context(ws, checked, today or datetime.now(UTC).date())
    return [rule_line(d) for d in _rules(ws, checked.requests, ctx, hist)]
