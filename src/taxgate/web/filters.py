"""What every page module shares: its router, the caller, the workspace, and the one
dependency that reads a list's filters and page number from the query string.

Every list page (batches, a batch's requests, decisions, the record of disclosures, the
audit entries, the review queue) takes :data:`ListFilters` and uses the fields it shows;
dates are checked here once (a bad one is a 400 naming the field), and :func:`one_page`
fetches a page and the total the pager needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query

from taxgate.http.auth import authenticate
from taxgate.http.common import workspace
from taxgate.services.search import BatchFilter, DecisionFilter
from taxgate.services.users import Principal
from taxgate.web.guard import form_guard
from taxgate.web.paging import PER_PAGE, Paging

Who = Annotated[Principal, Depends(authenticate)]
Ws = Annotated[Any, Depends(workspace)]
Text = Annotated[str, Query(max_length=200)]
T = TypeVar("T")


def page_router() -> APIRouter:
    """A router of pages: under ``/web``, out of the API's schema, every form guarded."""
    return APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(form_guard)])


@dataclass(frozen=True, slots=True)
class Filters:
    """A list's filters (empty: everything) and the page asked for: the decision filter
    (request id, agency, batch, status, code, dates), a batch's state, an event type."""

    found: DecisionFilter = DecisionFilter()
    state: str = ""
    event_type: str = ""
    page: int = 1

    def decisions(self, batch_id: str | None = None) -> DecisionFilter:
        """The decision filter (``batch_id``: the batch a page is about, over the query's)."""
        return self.found if batch_id is None else replace(self.found, batch_id=batch_id)

    def batches(self) -> BatchFilter:
        return BatchFilter(self.found.batch_id, self.found.agency, self.state)

    def params(self, *names: str) -> dict[str, str]:
        """The named filters as the page's links carry them.

        >>> Filters(DecisionFilter(agency="FBI"), page=3).params("agency", "state")
        {'agency': 'FBI', 'state': ''}
        """
        return {
            n: str(getattr(self.found, n) if hasattr(self.found, n) else getattr(self, n))
            for n in names
        }


def filters(
    request_id: Text = "",
    agency: Text = "",
    batch: Annotated[str, Query(alias="batch_id", max_length=200)] = "",  # not the path's
    status: Text = "",
    code: Text = "",
    state: Text = "",
    event_type: Text = "",
    since: Text = "",
    until: Text = "",
    page: Annotated[int, Query(ge=1, le=10**7)] = 1,
) -> Filters:
    """The query string's filters, dates checked."""
    found = DecisionFilter(request_id, agency, batch, status.strip(), code, since, until)
    return Filters(found.checked(), state.strip(), event_type.strip(), page)


ListFilters = Annotated[Filters, Depends(filters)]


def one_page(
    find: Callable[[int, int], tuple[Sequence[T], int]], page: int, per_page: int = PER_PAGE
) -> tuple[list[T], Paging]:
    """Page ``page`` of what ``find(limit, offset)`` finds (rows, total matching), and its
    pager; a page past the end shows the last one.

    >>> rows = list(range(120))
    >>> shown, pg = one_page(lambda n, o: (rows[o : o + n], len(rows)), 9)
    >>> (pg.page, shown[0], len(shown))
    (3, 100, 20)
    """
    rows, total = find(per_page, (page - 1) * per_page)
    pg = Paging.of(page=page, total=total, per_page=per_page)
    if pg.page != page:
        rows, _ = find(pg.per_page, pg.offset)
    return list(rows), pg
