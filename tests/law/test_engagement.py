"""R-ENGAGEMENT (policy serving 26 U.S.C. 6103(i)(2)(A), "personally and directly engaged"):
caps per officer whatever the case numbers and per agency per period; co-defendants above the
per-case cap go to a person instead of being refused. Both sides of every cap."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date

import pytest

from taxgate.rules import BatchContext, History, Rulebook, evaluate_batch, load_rulebook
from taxgate.rules.evaluate import case_key, officer_key
from taxgate.rules.statutes import load_statutes
from taxgate.types import Request

STATUTES = load_statutes()
FIELDS = frozenset({"tin", "first_name", "last_name", "wages"})
CTX = BatchContext("DHS-ICE", True, date(2026, 11, 25), FIELDS, "agency-head")
FIRST = ("Ana", "Luis", "Mei", "Omar", "Sara", "Ivan", "Lena", "Raul", "Nina", "Joel", "Rita")
LAST = ("Ruiz", "Soto", "Lin", "Haddad", "Berg", "Petrov", "Kraus", "Vega", "Ota", "Dunn", "Cole")
WORDS = (
    "ledger wire courier harbor invoice passport trailer warehouse pallet receipt "
    "checkpoint broker tanker freight depot permit voucher"
).split()


def _reason(i: int) -> str:
    """A specific reason, distinct per request (no boilerplate)."""
    a, b, c = WORDS[i % 17], WORDS[(i // 17) % 17], WORDS[(i // 289) % 17]
    return (
        f"Records seized on day {i} show the subject moved a {a} and a {b} through the "
        f"{c} for the smuggling ring under investigation number {i}"
    )


def request(i: int, *, case: str, officer: str) -> Request:
    return Request(
        f"E-{i:05d}", case_number=case, officer=officer, first_name=FIRST[i % 11],
        last_name=LAST[(i // 11) % 11], address_line1=f"{100 + i} N Main St", city="Austin",
        state="TX", zip="78701", tax_periods="2022", statute="8 U.S.C. 1324(a)(1)(A)",
        info_requested="last_known_address", reason=_reason(i),
    )  # fmt: skip


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook()


def judge(batch: list[Request], rb: Rulebook, history: History = History()) -> Counter[str]:  # noqa: B008
    return Counter(d.outcome for d in evaluate_batch(batch, CTX, rb, STATUTES, history))


def test_600_invented_case_numbers_over_3_officers_are_not_all_accepted(rulebook: Rulebook) -> None:
    officers = ("SA Dana K. Whitfield", "TFO M. Chen, Badge 2231", "SA J. Ortiz #4417")
    batch = [request(i, case=f"HSI-2026-{i:06d}", officer=officers[i % 3]) for i in range(600)]
    got = judge(batch, rulebook)
    assert got["accepted"] < 600
    # 200 requests per officer: each officer is over the request cap (150), whatever the cases
    assert got == Counter(rejected=600)
    decisions = evaluate_batch(batch, CTX, rulebook, STATUTES)
    assert all(any("whatever the case numbers" in r.message for r in d.reasons) for d in decisions)


@pytest.mark.parametrize(("n", "outcome"), [(150, "accepted"), (151, "rejected")])
def test_requests_per_officer_cap_boundary(n: int, outcome: str, rulebook: Rulebook) -> None:
    assert rulebook.max_requests_per_officer == 150
    batch = [request(i, case=f"HSI-2026-{i:06d}", officer="SA Dana K. Whitfield") for i in range(n)]
    assert judge(batch, rulebook) == Counter({outcome: n})


@pytest.mark.parametrize(("earlier", "outcome"), [(149, "accepted"), (150, "rejected")])
def test_requests_per_officer_counts_history(
    earlier: int, outcome: str, rulebook: Rulebook
) -> None:
    h = History(officer_requests={officer_key("SA Dana K. Whitfield"): earlier})
    batch = [request(0, case="HSI-2026-000001", officer="SA Dana K. Whitfield")]
    assert judge(batch, rulebook, h) == Counter({outcome: 1})


def test_eleven_codefendants_under_one_case_go_to_review(rulebook: Rulebook) -> None:
    assert rulebook.max_requests_per_case == 10
    batch = [request(i, case="OCDETF-2026-0042", officer="SA Dana K. Whitfield") for i in range(11)]
    decisions = evaluate_batch(batch, CTX, rulebook, STATUTES)
    assert {d.outcome for d in decisions} == {"review"}
    assert {r.code for d in decisions for r in d.reasons} == {"R-ENGAGEMENT"}
    assert all("co-defendants" in d.reasons[0].message for d in decisions)
    # at the cap: accepted
    assert judge(batch[:10], rulebook) == Counter(accepted=10)


@pytest.mark.parametrize(
    ("n", "outcome"), [(10, "accepted"), (11, "review"), (25, "review"), (26, "rejected")]
)
def test_per_case_caps_boundaries(n: int, outcome: str, rulebook: Rulebook) -> None:
    assert rulebook.max_requests_per_case_with_review == 25
    batch = [request(i, case="OCDETF-2026-0042", officer=f"SA Dan{chr(97 + i % 26)} Whitfield")
             for i in range(n)]  # fmt: skip
    assert judge(batch, rulebook) == Counter({outcome: n})


def test_per_case_caps_count_history(rulebook: Rulebook) -> None:
    batch = [request(0, case="OCDETF-2026-0042", officer="SA Dana K. Whitfield")]
    key = case_key("OCDETF-2026-0042")
    assert judge(batch, rulebook, History(case_counts={key: 10})) == Counter(review=1)
    assert judge(batch, rulebook, History(case_counts={key: 25})) == Counter(rejected=1)


@pytest.mark.parametrize(("earlier", "accepted"), [(0, 5), (2, 3), (5, 0)])
def test_per_agency_cap_refuses_only_the_excess(earlier: int, accepted: int) -> None:
    rb = dataclasses.replace(load_rulebook(), max_requests_per_agency=5)
    officers = [f"SA Agent{chr(65 + i)} Whitfield" for i in range(5)]
    batch = [request(i, case=f"HSI-2026-{i:06d}", officer=officers[i]) for i in range(5)]
    decisions = evaluate_batch(batch, CTX, rb, STATUTES, History(agency_requests=earlier))
    assert [d.outcome for d in decisions] == ["accepted"] * accepted + ["rejected"] * (5 - accepted)
    for d in decisions[accepted:]:
        assert [r.code for r in d.reasons] == ["R-ENGAGEMENT"]
        assert "the agency has made more than 5 requests in 30 days" in d.reasons[0].message


def test_caps_are_policy_citing_the_clause_they_serve(rulebook: Rulebook) -> None:
    assert rulebook.kind("R-ENGAGEMENT") == "policy"
    assert "policy serving 26 U.S.C. 6103(i)(2)(A)" in rulebook.citation("R-ENGAGEMENT")
    off = dataclasses.replace(rulebook, enabled={**rulebook.enabled, "R-ENGAGEMENT": "off"})
    officers = ("SA Dana K. Whitfield", "TFO M. Chen, Badge 2231", "SA J. Ortiz #4417")
    batch = [request(i, case=f"HSI-2026-{i:06d}", officer=officers[i % 3]) for i in range(600)]
    assert judge(batch, off) == Counter(accepted=600)  # a policy rule can be switched off


def test_the_cap_with_review_may_not_be_below_the_per_case_cap() -> None:
    import yaml

    from taxgate.config import PACKAGE_DATA
    from taxgate.errors import ConfigError
    from taxgate.rules.rulebook import compile_rulebook

    doc = yaml.safe_load((PACKAGE_DATA / "rulebook.yaml").read_text(encoding="utf-8"))
    doc["thresholds"]["max_requests_per_case_with_review"] = 9
    with pytest.raises(ConfigError) as err:
        compile_rulebook(doc, "r.yaml")
    assert any("max_requests_per_case_with_review" in p for p in err.value.problems)
    for key in ("max_requests_per_case_with_review", "max_requests_per_officer",
                "max_requests_per_agency", "agency_period_days"):  # fmt: skip
        del doc["thresholds"][key]  # an older rulebook gets the shipped caps
    doc["thresholds"]["max_requests_per_case"] = 10
    rb = compile_rulebook(doc, "r.yaml")
    assert (rb.max_requests_per_officer, rb.max_requests_per_agency) == (150, 50_000)
