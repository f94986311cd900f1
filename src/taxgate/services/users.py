"""Users of the service, their roles and tokens: one service for the CLI and the API.

Tokens are ``tg_`` followed by 32 random bytes (URL-safe base64); the store keeps only
their SHA-256. An agency user is bound to one agency and sees only its batches.

    >>> Principal("a", "agency", "DHS").may_see_agency("DOJ")
    False
    >>> hash_token("tg_x") == hash_token("tg_x") and new_token().startswith(TOKEN_PREFIX)
    True
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.errors import ConflictError, NotFoundError, UsageError
from taxgate.storage import repo
from taxgate.storage.audit_log import AuditLog
from taxgate.storage.tables import ROLES, Agency, User

TOKEN_PREFIX = "tg_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    name: str
    role: str
    agency: str | None

    def may_see_agency(self, agency: str) -> bool:
        """Agency users see only their own agency's objects; staff roles see all."""
        return self.role != "agency" or self.agency == agency


def check_role(role: str, agency: str | None) -> None:
    if role not in ROLES:
        raise UsageError(f"role must be one of {', '.join(ROLES)}, not `{role}`")
    if role == "agency" and not (agency and agency.strip()):
        raise UsageError("an agency user needs `--agency CODE`")
    if role != "agency" and agency:
        raise UsageError("only agency users are bound to an agency")


def add_user(
    s: Session, log: AuditLog, name: str, role: str, agency: str | None, *, by: str
) -> str:
    """Create a user and return its token (shown once; only its hash is stored).

    Raises:
        ConflictError: the name is taken.
        NotFoundError: the agency is not registered.
    """
    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("a user name must have 1 to 200 characters")
    check_role(role, agency)
    if s.scalars(select(User).where(User.name == name)).first() is not None:
        raise ConflictError(f"user `{name}` already exists: pick another name")
    if agency is not None and s.get(Agency, agency.strip()) is None:
        raise NotFoundError(
            f"no agency `{agency.strip()}` is registered: add it first (`agencies add`)"
        )
    token = new_token()
    s.add(
        User(
            name=name,
            role=role,
            agency_code=agency.strip() if agency else None,
            token_hash=hash_token(token),
            active=True,
            created_at=repo.now_iso(),
        )
    )
    s.flush()
    log.append(
        "permission_change",
        f"user:{name}",
        {"action": "user_added", "role": role, "agency": agency or ""},
        user=by,
        personal={"token": hash_token(token)},  # a salted hash of the token's hash
    )
    return token


def change_user(
    s: Session,
    log: AuditLog,
    name: str,
    *,
    role: str | None,
    agency: str | None,
    active: bool | None,
    by: str,
) -> User:
    """Change a user's role, agency or standing; the change is logged."""
    user = s.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFoundError(f"no user `{name}`")
    new_role = role or user.role
    new_agency = agency if agency is not None else user.agency_code
    if new_role != "agency":
        new_agency = None if role else new_agency
    check_role(new_role, new_agency)
    before = {"role": user.role, "agency": user.agency_code or "", "active": user.active}
    user.role, user.agency_code = new_role, new_agency
    if active is not None:
        user.active = active
    after = {"role": user.role, "agency": user.agency_code or "", "active": user.active}
    log.append(
        "permission_change",
        f"user:{name}",
        {"action": "user_changed", "before": before, "after": after},
        user=by,
    )
    return user


def lookup(s: Session, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    user = s.scalars(select(User).where(User.token_hash == hash_token(token))).first()
    if user is None or not user.active:
        return None
    return Principal(user.name, user.role, user.agency_code)
