"""The control state is what the log says it is.

Four small tables decide what taxgate does without being decisions themselves: the
taxpayers held back under (i)(6) (``holdbacks``: a deleted row would let an informant's
data go out), the officials and their keys and statutory authorities (``officials``: an
edited key or authority would let someone else's batch through), the agencies' (p)(4)
safeguard status (``safeguards``) and the privacy budget's spends (``privacy_spend``: a
deleted spend would let a year's budget be spent again). Every change to them is logged,
so each table can be rebuilt by replaying its events; :func:`control_problems` compares
the tables with that replay. ``audit verify`` reports every difference, and the pipeline
and the transparency release check the tables they are about to rely on first
(:func:`require_control`), so an edit made with database access stops the work instead of
changing its outcome. The replay finds its entries by the store's event-type column, so the
check also holds them to the count of control entries the latest signed checkpoint makes
(:mod:`taxgate.audit.control_head`): a control entry relabelled as another kind is seen.

The log keeps a salted hash of a held-back TIN, never the TIN: the table's TINs are hashed
with the store's salt to compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.audit.checkpoint import verify_checkpoint
from taxgate.audit.control_head import CONTROL_EVENTS, ControlHead, event_type_of, signed_head
from taxgate.audit.entry import AuditEntry, decode_entry, salted_hasher
from taxgate.audit.rfc9162 import leaf_hash
from taxgate.errors import AuditError
from taxgate.intake.signing import key_id, public_from_raw_b64
from taxgate.storage import tables as m
from taxgate.storage.repo import KEY_NAME, get_setting, latest_checkpoint_row

#: The parts of the control state, by table.
PARTS: tuple[str, ...] = ("holdbacks", "officials", "safeguards", "privacy_spend", "users")

_EVENTS: dict[str, tuple[str, ...]] = {
    "holdbacks": ("holdback_added", "holdback_removed"),
    "officials": ("key_registered", "permission_change"),
    "safeguards": ("safeguard_status",),
    "privacy_spend": ("transparency_release",),
    "users": ("permission_change",),
}


def _events(s: Session, kinds: Sequence[str]) -> Iterator[tuple[int, AuditEntry]]:
    """The successful entries of these kinds, in log order."""
    rows = s.execute(
        select(m.AuditEntry.idx, m.AuditEntry.entry)
        .where(m.of_events(*kinds))
        .order_by(m.AuditEntry.idx)
    )
    for idx, data in rows:
        try:
            entry = decode_entry(data)
        except (AuditError, ValueError):
            continue  # verify_log reports a malformed entry itself
        if entry.outcome == "success":
            yield idx, entry


def _hasher(s: Session) -> Callable[[str], str] | None:
    value = get_setting(s, "audit_salt")
    return salted_hasher(bytes.fromhex(value)) if value else None


def holdback_problems(s: Session) -> list[str]:
    logged: dict[str, tuple[int, str]] = {}  # TIN hash -> (entry, reason) of the holdbacks
    for idx, e in _events(s, _EVENTS["holdbacks"]):
        h = str(e.details.get("tin_hash", ""))
        if e.event_type == "holdback_added":
            logged[h] = (idx, str(e.details.get("reason", "")))
        else:
            logged.pop(h, None)
    rows = list(s.scalars(select(m.Holdback)))
    if not rows and not logged:
        return []
    hashed = _hasher(s)
    if hashed is None:
        return ["holdbacks: the store's salt is missing, the held-back taxpayers cannot be checked"]
    problems: list[str] = []
    stored = {hashed(r.tin): r.reason for r in rows}
    for h, reason in stored.items():
        if h not in logged:
            problems.append("holdbacks: a held-back taxpayer in the store was never logged")
        elif logged[h][1] != reason:
            problems.append(
                f"holdbacks: the reason of the holdback of entry {logged[h][0]} was changed"
            )
    for h, (idx, _) in logged.items():
        if h not in stored:
            problems.append(
                f"holdbacks: the holdback of entry {idx} is gone from the store without a logged"
                " removal"
            )
    return problems


def official_problems(s: Session) -> list[str]:
    logged: dict[int, dict[str, Any]] = {}  # official id -> what the log registered
    revoked_unnamed: set[str] = set()  # agencies revoked by entries that name no official
    for _, e in _events(s, _EVENTS["officials"]):
        d = e.details
        if e.event_type == "key_registered":
            if "official_id" not in d:  # the tax agency's own signing key, not an official
                continue
            logged[int(d.get("official_id", -1))] = {
                "agency": e.object,
                "key_id": d.get("key_id"),
                "authority": d.get("authority", ""),
                "active": True,
            }
        elif d.get("change") == "official_revoked":
            ids = d.get("official_ids")
            if ids is None:  # logged before the entries named the officials
                revoked_unnamed.add(e.object)
            for i in ids or ():
                if int(i) in logged:
                    logged[int(i)]["active"] = False
    problems: list[str] = []
    seen: set[int] = set()
    for row in s.scalars(select(m.Official)):
        seen.add(row.id)
        want = logged.get(row.id)
        where = f"officials: official {row.id} of agency `{row.agency_code}`"
        if want is None:
            problems.append(f"{where} was never logged as registered")
            continue
        try:
            derived = key_id(public_from_raw_b64(row.public_key))
        except (ValueError, TypeError):
            derived = ""
        if derived != row.key_id or row.key_id != want["key_id"]:
            problems.append(f"{where}: its key is not the key the log registered")
        if row.agency_code != want["agency"]:
            problems.append(f"{where}: its agency is not the one the log registered")
        if (row.authority or "") != want["authority"]:
            problems.append(f"{where}: its authority is not the one the log registered")
        if bool(row.active) != want["active"] and row.agency_code not in revoked_unnamed:
            problems.append(f"{where}: active or revoked against what the log says")
    for oid, want in logged.items():
        if oid not in seen:
            problems.append(
                f"officials: official {oid} of agency `{want['agency']}` is gone from the store"
            )
    return problems


def safeguard_problems(s: Session) -> list[str]:
    logged: dict[str, dict[str, Any]] = {}
    for _, e in _events(s, _EVENTS["safeguards"]):
        d = e.details
        logged[e.object] = {
            "last_report": d.get("last_report"),
            "open_findings": d.get("open_findings"),
            "corrective_plan": bool(d.get("corrective_plan")),
        }
    problems: list[str] = []
    stored = {r.agency_code: r for r in s.scalars(select(m.Safeguard))}
    for agency, row in stored.items():
        want = logged.get(agency)
        have = {
            "last_report": row.last_report,
            "open_findings": row.open_findings,
            "corrective_plan": bool(row.corrective_plan),
        }
        if want is None:
            problems.append(f"safeguards: agency `{agency}`'s status was never logged")
        elif have != want:
            problems.append(f"safeguards: agency `{agency}`'s status differs from its logged one")
    for agency in logged:
        if agency not in stored:
            problems.append(f"safeguards: agency `{agency}`'s logged status is gone from the store")
    return problems


def spend_problems(s: Session) -> list[str]:
    logged = {idx: e.details for idx, e in _events(s, _EVENTS["privacy_spend"])}
    problems: list[str] = []
    seen: set[int] = set()
    for row in s.scalars(select(m.PrivacySpend)):
        seen.add(row.audit_index)
        want = logged.get(row.audit_index)
        if want is None:
            problems.append(f"privacy_spend: release {row.id} has no logged release")
        elif (
            row.year != want.get("year")
            or float(row.epsilon) != float(want.get("epsilon", -1))
            or row.output_sha256 != want.get("output_sha256")
        ):
            problems.append(f"privacy_spend: release {row.id} differs from its logged release")
    for idx in logged:
        if idx not in seen:
            problems.append(
                f"privacy_spend: the release of entry {idx} is gone from the store (its budget"
                " would be spent again)"
            )
    return problems


def user_problems(s: Session) -> list[str]:
    """Users' roles, agencies, standing and tokens against ``user_added``, ``user_changed``
    and ``token_rotated`` (a token is compared by a salted hash of its stored hash, when the
    entry that set it carries one)."""
    logged: dict[str, dict[str, Any]] = {}
    for _, e in _events(s, _EVENTS["users"]):
        if not e.object.startswith("user:"):
            continue
        name, d = e.object.removeprefix("user:"), e.details
        action = d.get("action")
        if action == "user_added":
            logged[name] = {"role": d.get("role"), "agency": d.get("agency") or "",
                            "active": True, "token": d.get("token_hash")}  # fmt: skip
        elif name in logged and action == "user_changed":
            after = d.get("after") or {}
            logged[name].update(
                role=after.get("role"), agency=after.get("agency") or "", active=after.get("active")
            )
        elif name in logged and action == "token_rotated":
            logged[name]["token"] = d.get("token_hash")
    rows = list(s.scalars(select(m.User)))
    hashed = _hasher(s) if any(u.get("token") for u in logged.values()) else None
    problems: list[str] = []
    for row in rows:
        want = logged.get(row.name)
        where = f"users: user `{row.name}`"
        if want is None:
            problems.append(f"{where} was never logged as added")
            continue
        have = {"role": row.role, "agency": row.agency_code or "", "active": bool(row.active)}
        if have != {k: want[k] for k in have}:
            problems.append(f"{where}: role, agency or standing differs from the log")
        if want["token"] and hashed is not None and hashed(row.token_hash) != want["token"]:
            problems.append(f"{where}: the token is not the one the log issued")
    names = {r.name for r in rows}
    problems.extend(f"users: user `{n}` is gone from the store" for n in logged if n not in names)
    return problems


def control_log_problems(s: Session, public_key: Ed25519PublicKey | None) -> list[str]:
    """Whether the control entries the event-type column finds below the latest
    checkpoint are the ones it signed a count of (:mod:`taxgate.audit.control_head`).

    A relabelled control entry (its row's event type changed, so a replay by type misses
    it) or a deleted one changes the count or the chain. Entries after the latest
    checkpoint are not covered: every command signs the log when it ends, and a batch
    signs it before it starts. A checkpoint signed before checkpoints counted control
    entries holds nothing to compare (the next signing counts them). ``public_key``: None
    when the agency has no signing key (a problem once anything was signed).
    """
    last = latest_checkpoint_row(s)
    if last is None:
        return []
    if public_key is None:
        return ["the log has signed checkpoints but the agency's signing key is gone"]
    try:
        cp = verify_checkpoint(last.text, public_key, KEY_NAME)
        signed = signed_head(cp.extensions)
    except AuditError as e:
        return [f"the latest checkpoint ({last.id}) does not verify: {e}"]
    if signed is None:
        return []
    problems: list[str] = []
    head = ControlHead()
    q = (
        select(m.AuditEntry.idx, m.AuditEntry.event_type, m.AuditEntry.entry)
        .where(m.of_events(*sorted(CONTROL_EVENTS)), m.AuditEntry.idx < cp.size)
        .order_by(m.AuditEntry.idx)
    )
    for idx, column, data in s.execute(q):
        kind = event_type_of(data)
        if kind != column:
            problems.append(f"entry {idx}: its event-type column is not what its bytes say")
        if kind in CONTROL_EVENTS:
            head = head.then(idx, leaf_hash(bytes(data)))
    if head != signed:
        problems.append(
            f"the log's control entries below entry {cp.size} are not the {signed.count} its "
            f"latest checkpoint signed ({head.count} found by type): an entry relabelled, "
            "deleted or changed"
        )
    return problems


_CHECKS: dict[str, Callable[[Session], list[str]]] = {
    "holdbacks": holdback_problems,
    "officials": official_problems,
    "safeguards": safeguard_problems,
    "privacy_spend": spend_problems,
    "users": user_problems,
}


def control_problems(s: Session, parts: Sequence[str] = PARTS) -> list[str]:
    """Every difference between these control tables and the replay of their events."""
    return [p for part in parts for p in _CHECKS[part](s)]


def require_control(
    s: Session, parts: Sequence[str], *, signed_by: Ed25519PublicKey | None
) -> None:
    """Stop unless these control tables are what the log says (an AuditError lists why).

    ``signed_by``: the agency's public key (None: it has none), to hold the control entries
    the replay finds by type to the count the latest checkpoint signed (a relabelled entry
    would otherwise drop out of the replay unseen).
    """
    problems = control_problems(s, parts) + control_log_problems(s, signed_by)
    if problems:
        raise AuditError(
            "the store's control state differs from the audit log (changed outside taxgate?): "
            + "; ".join(problems[:10])
        )
