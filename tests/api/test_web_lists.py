"""The lists on the pages on both stores: filters (id, agency, status, code, dates), pages
and CSV downloads; the audit entries by event type and date; an agency's filters never
reach another agency's requests."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

from tests.api.service import Service


def _total(html: str) -> int:
    found = re.search(r"(\d+)–(\d+) of (\d+)", html)
    if found is None:
        assert "nothing found" in html
        return 0
    return int(found.groups()[-1])


def _csv(svc: Service, url: str) -> list[dict[str, str]]:
    r = svc.client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(r.text)))


def test_decisions_filters_pages_and_csv(processed: Service) -> None:
    svc = processed
    svc.web("officer")
    everything = _csv(svc, "/web/decisions.csv")
    assert len(everything) > 50  # more than a page
    first = svc.client.get("/web/decisions").text
    assert _total(first) == len(everything)
    assert first.count('<td class="status">') == 50
    last_page = -(-len(everything) // 50)
    last = svc.client.get(f"/web/decisions?page={last_page}").text
    assert last.count('<td class="status">') == len(everything) - 50 * (last_page - 1)
    for status in {r["status"] for r in everything}:
        rows = _csv(svc, f"/web/decisions.csv?status={status}")
        assert len(rows) == sum(1 for r in everything if r["status"] == status)
        assert {r["status"] for r in rows} == {status}
    code = next(r["codes"].split(";")[0] for r in everything if r["codes"])
    with_code = _csv(svc, f"/web/decisions.csv?code={code.lower()}")  # any case
    assert with_code and all(code in r["codes"].split(";") for r in with_code)
    assert len(with_code) == sum(1 for r in everything if code in r["codes"].split(";"))
    agencies = {r["agency"] for r in everything}
    assert len(agencies) == 2
    for agency in agencies:
        assert {r["agency"] for r in _csv(svc, f"/web/decisions.csv?agency={agency}")} == {agency}
    rid = everything[7]["request_id"]
    prefix = _csv(svc, f"/web/decisions.csv?request_id={rid[:-1]}")
    assert rid in {r["request_id"] for r in prefix}
    assert all(r["request_id"].startswith(rid[:-1]) for r in prefix)
    assert _csv(svc, "/web/decisions.csv?request_id=%25") == []  # a LIKE wildcard is a letter
    today = datetime.now(UTC).date()
    assert len(_csv(svc, f"/web/decisions.csv?since={today}&until={today}")) == len(everything)
    assert _csv(svc, f"/web/decisions.csv?since={today + timedelta(days=1)}") == []
    assert _csv(svc, f"/web/decisions.csv?until={today - timedelta(days=1)}") == []
    bad = svc.client.get("/web/decisions?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.text and "<nav" in bad.text


def test_an_agency_filters_only_its_own_requests(processed: Service) -> None:
    svc = processed
    svc.web("officer")
    other = svc.kit.manifest("b1")["batch_id"]
    theirs = _csv(svc, f"/web/decisions.csv?batch_id={other}")
    assert theirs
    svc.web("agency")
    mine = _csv(svc, "/web/decisions.csv")
    assert mine and {r["agency"] for r in mine} == {svc.kit.agency}
    agency_of_b1 = theirs[0]["agency"]
    assert _csv(svc, f"/web/decisions.csv?agency={agency_of_b1}") == mine  # ignored
    assert _csv(svc, f"/web/decisions.csv?batch_id={other}") == []
    assert "D-HOLDBACK" not in svc.client.get("/web/decisions.csv").text


def test_audit_entries_by_type_and_date(processed: Service) -> None:
    svc = processed
    svc.web("auditor")
    page = svc.client.get("/web/audit/entries").text
    total = _total(page)
    assert total > 50
    decisions = svc.client.get("/web/audit/entries?event_type=decision").text
    n = _total(decisions)
    assert 0 < n < total
    assert set(re.findall(r"<td>(\w+)</td>\s*<td class=\"(?:pass|fail)\"", decisions)) <= {
        "decision"
    }
    today = date.today()
    both = f"since={today - timedelta(days=1)}&until={today + timedelta(days=1)}"
    assert _total(svc.client.get(f"/web/audit/entries?{both}").text) == total
    later = svc.client.get(f"/web/audit/entries?since={today + timedelta(days=2)}").text
    assert _total(later) == 0
    earlier = svc.client.get(f"/web/audit/entries?until={today - timedelta(days=2)}").text
    assert _total(earlier) == 0


def test_record_of_disclosures_as_each_role_reads_it(processed: Service) -> None:
    svc = processed
    svc.web("officer")
    full = _csv(svc, "/web/disclosures.csv")
    assert full and all(r["tin"] for r in full)
    svc.web("auditor")
    redacted = _csv(svc, "/web/disclosures.csv")
    assert [r["request_id"] for r in redacted] == [r["request_id"] for r in full]
    hidden = {"tin", "investigating_officer", "reason", "signed_by", "official_name"}
    assert not hidden & set(redacted[0])
    text = svc.client.get("/web/disclosures").text + svc.client.get("/web/disclosures.csv").text
    assert not [r["tin"] for r in full if r["tin"] in text]
    assert not [r["reason"] for r in full if r["reason"] and r["reason"] in text]
