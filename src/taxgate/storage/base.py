"""The declarative base of every table of the store, alone so table modules never import each other.

>>> from taxgate.storage.base import Base
>>> from taxgate.storage import tables  # importing the tables registers them on Base
>>> "decisions" in Base.metadata.tables
True
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
