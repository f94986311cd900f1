"""R-ENGAGEMENT counts only real case numbers and officers, never placeholders."""

from __future__ import annotations

import dataclasses

import pytest

from taxgate.rules import BatchContext, Rulebook, StatuteCatalog, evaluate_batch
from taxgate.rules.evaluate import case_key, officer_key
from taxgate.types import Request


def _request(i: int, officer: str, case: str) -> Request:
    return Request(
        f"E-{i:04d}", case_number=case, officer=officer, first_name="Ana", last_name="Ruiz",
        address_line1="123 N Main St", city="Austin", state="TX", zip="78701",
        tax_periods="2022", statute="8 U.S.C. 1324", info_requested="last_known_address",
        reason="Bank records show the subject wired funds to a smuggling coordinator in Laredo "
        "on four occasions during the spring",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["", "N/A", "na", "Unknown", "TBD", "0", "-", "?", "ABC"])
def test_case_key_of_a_value_failing_r_case_is_empty(value: str) -> None:
    assert case_key(value) == ""


@pytest.mark.parametrize("value", ["", "Unknown", "N/A", "Special Agent", "Smith", "FNU LNU"])
def test_officer_key_of_a_value_failing_r_officer_is_empty(value: str) -> None:
    assert officer_key(value) == ""


def test_keys_of_real_values_are_normalised() -> None:
    assert case_key("ICE - 2025-004417") == case_key("ice2025004417") == "ice2025004417"
    assert officer_key("Special Agent Rosa  Ibarra") == officer_key("rosa ibarra") != ""


@pytest.mark.parametrize(
    ("officer", "codes"),
    [("Unknown", {"R-OFFICER"}), ("N/A", {"R-OFFICER"}), ("Dana K. Whitfield", {"R-ENGAGEMENT"})],
)
def test_officer_behind_201_cases_in_the_batch(
    officer: str,
    codes: set[str],
    ctx: BatchContext,
    rulebook: Rulebook,
    statutes: StatuteCatalog,
) -> None:
    rb = dataclasses.replace(rulebook, enabled={**rulebook.enabled, "R-REASON": "off"})
    batch = [_request(i, officer, f"HSI-{i:05d}") for i in range(rb.max_cases_per_officer + 1)]
    decisions = evaluate_batch(batch, ctx, rb, statutes)
    assert {d.outcome for d in decisions} == {"rejected"}
    assert {frozenset(r.code for r in d.reasons) for d in decisions} == {frozenset(codes)}
