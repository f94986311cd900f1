"""Web sessions, kept in the store and apart from API tokens.

Signing in on the pages with a token opens a session: a random id goes in the cookie,
the store keeps only its SHA-256, the user's name, a form token (CSRF) and its times. A
session ends when it has been idle for ``idle_seconds``, when it is ``max_seconds`` old,
when its user is disabled, or at logout, which deletes it: a stolen cookie then opens
nothing. The API never accepts a session; the pages never accept a bearer token.

The clock is passed in, so expiry is testable without waiting.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from taxgate.services.users import Principal
from taxgate.storage.tables import User, WebSession

IDLE_SECONDS = 30 * 60
MAX_SECONDS = 8 * 3600
#: last_seen is rewritten at most this often (not on every page view)
TOUCH_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Opened:
    """A session just opened: the cookie value (shown once) and its form token."""

    session_id: str
    csrf: str


@dataclass(frozen=True, slots=True)
class Live:
    """A session found live: who it is and the form token its forms must carry."""

    who: Principal
    csrf: str


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(s: Session, user_name: str, now: float, max_seconds: int = MAX_SECONDS) -> Opened:
    """A new session for ``user_name``; expired sessions are swept on the way."""
    s.execute(delete(WebSession).where(WebSession.expires_at <= now))
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(
        WebSession(
            id_hash=_hash(sid),
            user_name=user_name,
            csrf=csrf,
            created_at=now,
            last_seen=now,
            expires_at=now + max_seconds,
        )
    )
    s.flush()
    return Opened(sid, csrf)


def find_session(
    s: Session, session_id: str, now: float, idle_seconds: int = IDLE_SECONDS
) -> Live | None:
    """The live session of ``session_id`` (None when unknown, expired, idle or disabled)."""
    if not session_id or len(session_id) > 100:
        return None
    row = s.get(WebSession, _hash(session_id))
    if row is None:
        return None
    if now >= row.expires_at or now - row.last_seen >= idle_seconds:
        s.delete(row)
        return None
    user = s.scalars(select(User).where(User.name == row.user_name)).first()
    if user is None or not user.active:
        s.delete(row)
        return None
    if now - row.last_seen >= TOUCH_SECONDS:
        row.last_seen = now
    return Live(Principal(user.name, user.role, user.agency_code), row.csrf)


def close_session(s: Session, session_id: str) -> bool:
    """Delete the session (logout); True when there was one."""
    if not session_id or len(session_id) > 100:
        return False
    row = s.get(WebSession, _hash(session_id))
    if row is None:
        return False
    s.delete(row)
    return True


def close_user_sessions(s: Session, user_name: str) -> int:
    """Delete every session of a user (a disabled or rotated user)."""
    result = s.execute(delete(WebSession).where(WebSession.user_name == user_name))
    return int(getattr(result, "rowcount", 0) or 0)
