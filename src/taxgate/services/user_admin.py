"""Users of the service, managed from the command line: add, list, disable, rotate.

Each change is logged under the work folder's user; a token is shown once and only its
SHA-256 is kept. Errors are taxgate's own (a duplicate name, an unknown agency or user), in
plain words; adding goes through :func:`taxgate.services.users.add_user`, as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxgate.errors import NotFoundError
from taxgate.services.sessions import close_user_sessions
from taxgate.services.users import add_user, change_user, hash_token, new_token
from taxgate.storage import tables as m
from taxgate.workspace import Workspace


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
        raise NotFoundError(f"no user `{name.strip()}`")
    return user


def create(ws: Workspace, name: str, role: str, agency: str | None) -> str:
    """Add a user; refuses a name already taken and an agency that is not registered."""
    with ws.transaction() as (s, log):
        return add_user(s, log, name, role, agency, by=ws.user)


def listing(ws: Workspace) -> list[UserLine]:
    with ws.transaction() as (s, _):
        return [
            UserLine(u.name, u.role, u.agency_code or "", u.active, u.created_at)
            for u in s.scalars(select(m.User).order_by(m.User.name))
        ]


def disable(ws: Workspace, name: str) -> bool:
    """Disable a user (its token stops working); False when it already was. Logged as the
    API logs it (``user_changed``, before and after)."""
    with ws.transaction() as (s, log):
        user = _user(s, name)
        if not user.active:
            return False
        change_user(s, log, user.name, role=None, agency=None, active=False, by=ws.user)
        close_user_sessions(s, user.name)  # signed-in pages end at once too
        return True


def rotate(ws: Workspace, name: str) -> str:
    """Give a user a new token (the old one stops working); returns it, shown once."""
    with ws.transaction() as (s, log):
        user = _user(s, name)
        token = new_token()
        user.token_hash = hash_token(token)
        close_user_sessions(s, user.name)  # a session opened with the old token ends
        log.append(
            "permission_change",
            f"user:{user.name}",
            {"action": "token_rotated"},
            user=ws.user,
            personal={"token": user.token_hash},  # a salted hash of the token's hash
        )
        return token
