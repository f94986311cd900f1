"""Users of the service, managed from the command line: add, list, disable, rotate.

Each change is logged; a token is shown once and only its SHA-256 is kept. Errors are
taxgate's own (a duplicate name, an unknown agency or user), in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.errors import ConflictError, StoreError, UsageError
from taxgate.services.users import add_user, hash_token, new_token
from taxgate.storage import tables as m
from taxgate.storage.audit_log import AuditLog


@dataclass(frozen=True, slots=True)
class UserLine:
    name: str
    role: str
    agency: str
    active: bool
    created_at: str


def _user(s: Session, name: str) -> m.User:
    user = s.scalars(select(m.User).where(m.User.name == name.strip())).first()
    if user is None:
        raise StoreError(f"no user `{name.strip()}`")
    return user


def create(s: Session, log: AuditLog, name: str, role: str, agency: str | None, *, by: str) -> str:
    """Add a user; refuses a name already taken and an agency that is not registered."""
    clean = name.strip()
    if clean and s.scalars(select(m.User).where(m.User.name == clean)).first() is not None:
        raise ConflictError(f"user `{clean}` already exists: pick another name")
    if agency is not None and agency.strip():
        if s.get(m.Agency, agency.strip()) is None:
            raise UsageError(
                f"no agency `{agency.strip()}` is registered: add it first with "
                "`taxgate agencies add`"
            )
    return add_user(s, log, name, role, agency, by=by)


def listing(s: Session) -> list[UserLine]:
    return [
        UserLine(u.name, u.role, u.agency_code or "", u.active, u.created_at)
        for u in s.scalars(select(m.User).order_by(m.User.name))
    ]


def disable(s: Session, log: AuditLog, name: str, *, by: str) -> bool:
    """Disable a user (its token stops working); False when it already was."""
    user = _user(s, name)
    if not user.active:
        return False
    user.active = False
    log.append("permission_change", f"user:{user.name}", {"action": "user_disabled"}, user=by)
    return True


def rotate(s: Session, log: AuditLog, name: str, *, by: str) -> str:
    """Give a user a new token (the old one stops working); returns it, shown once."""
    user = _user(s, name)
    token = new_token()
    user.token_hash = hash_token(token)
    log.append("permission_change", f"user:{user.name}", {"action": "token_rotated"}, user=by)
    return token
