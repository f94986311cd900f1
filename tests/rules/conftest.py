"""Shared fixtures for the rules tests: the shipped rulebook, statutes, field names."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from taxgate.config import PACKAGE_DATA
from taxgate.rules import BatchContext, Rulebook, StatuteCatalog, load_rulebook, load_statutes

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return load_rulebook()


@pytest.fixture(scope="session")
def statutes() -> StatuteCatalog:
    return load_statutes()


@pytest.fixture(scope="session")
def field_names() -> frozenset[str]:
    doc = yaml.safe_load((PACKAGE_DATA / "fields.yaml").read_text(encoding="utf-8"))
    return frozenset(doc["fields"])


@pytest.fixture(scope="session")
def ctx(field_names: frozenset[str]) -> BatchContext:
    return BatchContext("ICE", True, TODAY, field_names, "agency-head")
