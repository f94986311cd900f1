"""What every route module shares: the workspace of the app, the documented errors."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel

from taxgate.workspace import Workspace

AGENCY = "agency"
OFFICER = "officer"
REVIEWER = "reviewer"
AUDITOR = "auditor"
ADMIN = "admin"
EVERYONE = (AGENCY, OFFICER, REVIEWER, AUDITOR, ADMIN)


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """The one error shape."""

    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (401, "no token, or a token that is not valid"),
        (403, "the caller's role may not do this"),
        (404, "no such object (or not the caller's agency's)"),
        (409, "a conflict with what the store holds"),
        (413, "the body is too large"),
        (422, "the request is not valid"),
        (429, "the agency is over its rate limit"),
    )
}


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.ws
    return ws
