"""Every form posted to the pages must come from the pages themselves.

Two checks on every POST under ``/web`` (a router dependency, so no form can forget):

- the Origin: a browser names the page's origin in ``Origin``; with the pages'
  ``Referrer-Policy: no-referrer`` it sends ``Origin: null`` on a form post instead, and
  then ``Sec-Fetch-Site`` says whether the post came from the same origin. A post from
  another origin, or ``Origin: null`` without ``Sec-Fetch-Site``, is refused (403);
- the form token (CSRF): every form of a signed-in session carries the session's token in
  a hidden ``csrf`` field, compared in constant time. Sign-in itself has no session yet
  and relies on the origin check and the SameSite=Strict cookie.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from taxgate.errors import ForbiddenError
from taxgate.http.auth import web_session

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
NO_SESSION_YET = frozenset({"/web/login"})


def same_origin(request: Request) -> bool:
    """Whether a browser says the request came from this origin (True for a client that
    sends neither header: not a browser, so no one else's cookie rides along)."""
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    expected = f"{request.url.scheme}://{request.url.netloc}"
    if origin and origin != "null":
        return origin == expected
    if site:
        return site == "same-origin"
    return origin is None


async def form_guard(request: Request) -> None:
    if request.method in SAFE:
        return
    if not same_origin(request):
        raise ForbiddenError("this form was posted from another site")
    if request.url.path in NO_SESSION_YET:
        return
    live = web_session(request)
    if live is None:
        return  # the route's authentication answers (sign in first)
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent, live.csrf):
        raise ForbiddenError("this form is out of date or came from another site: reload the page")
