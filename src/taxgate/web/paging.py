"""Pagination of every list on the pages.

>>> p = Paging.of(page=3, total=120, per_page=50)
>>> (p.offset, p.first, p.last, p.pages, p.has_next, p.has_prev)
(100, 101, 120, 3, False, True)
>>> Paging.of(page=99, total=10).page
1
"""

from __future__ import annotations

from dataclasses import dataclass

PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    per_page: int
    total: int

    @classmethod
    def of(cls, *, page: int, total: int, per_page: int = PER_PAGE) -> Paging:
        pages = max(1, -(-total // per_page))
        return cls(min(max(1, page), pages), per_page, total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1
