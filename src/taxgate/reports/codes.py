"""What each decision code means, for people reading a report (from DESIGN.md's rule table).

A report prefers the citation the decisions themselves carry (the rulebook's); these are
the fallbacks and the plain-language explanations.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CODE_EXPLANATIONS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "R-SIGNATURE": (
            "data-sharing agreement",
            "the batch was unsigned, signed by an unknown key, or changed after signing",
        ),
        "R-REQUESTER": (
            "26 U.S.C. 6103(i)(2)(A)",
            "the requesting official is not registered as authorized to request",
        ),
        "R-SAFEGUARDS": (
            "26 U.S.C. 6103(p)(4)",
            "the agency's safeguard report is out of date, or it has open findings and no "
            "corrective action plan: disclosures held for a person or refused",
        ),
        "R-CASE": ("26 U.S.C. 6103(i)(2)(A)", "no case or investigation number"),
        "R-OFFICER": ("26 U.S.C. 6103(i)(2)(A)", "no investigating officer named"),
        "R-ENGAGEMENT": (
            "26 U.S.C. 6103(i)(2)(A)",
            "one officer or case, or the agency in a period, behind more requests than personal "
            "engagement allows (co-defendants on one case: a person decides)",
        ),
        "R-NAME": ("26 U.S.C. 6103(i)(2)(B)(i)", "no taxpayer name, or not a person's name"),
        "R-ADDRESS": (
            "26 U.S.C. 6103(i)(2)(B)(i)",
            "no address, a placeholder, or not a complete address",
        ),
        "R-PERIOD": (
            "26 U.S.C. 6103(i)(2)(B)(ii)",
            "no taxable period, malformed, in the future, open-ended or too long",
        ),
        "R-STATUTE": (
            "26 U.S.C. 6103(i)(2)(A), (B)(iii)",
            "no statute, an unknown one, a civil provision, or a tax offense",
        ),
        "R-REASON": (
            "26 U.S.C. 6103(i)(2)(B)(iv)",
            "no reason, too short to be specific, or boilerplate repeated across requests",
        ),
        "R-PURPOSE": (
            "26 U.S.C. 6103(i)(2)(A)",
            "the reason states a civil purpose (removal, deportation, civil enforcement)",
        ),
        "R-INFO": (
            "26 U.S.C. 6103(i)(2)(B)",
            "nothing requested, or a field that is not in the field catalogue",
        ),
        "R-DUPLICATE": ("idempotency", "already decided: the earlier decision was returned"),
        "D-TRI": (
            "26 U.S.C. 6103(i)(2)",
            "a requested field is taxpayer return information and was withheld",
        ),
        "D-NOT-REQUESTED": ("minimum necessary", "a field the request did not ask for"),
        "M-AMBIGUOUS": ("accuracy", "several candidate taxpayers: nothing disclosed"),
        "M-NONE": ("accuracy", "no candidate with enough confidence: nothing disclosed"),
        "M-ADDRESS": (
            "accuracy",
            "name or TIN agrees but the address is not the taxpayer's in the requested periods",
        ),
    }
)

STATUS_EXPLANATIONS: Mapping[str, str] = MappingProxyType(
    {
        "REJECTED": "refused by the rules",
        "NO_MATCH": "no taxpayer matched",
        "AMBIGUOUS": "several taxpayers matched",
        "PENDING_REVIEW": "waiting for a reviewer",
        "WITHHELD": "nothing went out: a reviewer refused, or every requested field was withheld",
        "DISCLOSED": "information went out",
    }
)
