"""Who may ask: the officials 26 U.S.C. 6103(i)(2)(A) lists, as a closed vocabulary.

    "... upon the grant of a written request which sets forth the specific reason or reasons
    why such disclosure may be relevant to the proceeding or investigation, by the head of
    any Federal agency or the Inspector General thereof, or, in the case of the Department
    of Justice, the Attorney General, the Deputy Attorney General, the Associate Attorney
    General, any Assistant Attorney General, the Director of the Federal Bureau of
    Investigation, the Administrator of the Drug Enforcement Administration, any United
    States attorney, any special prosecutor appointed under section 593 of title 28, United
    States Code, or any attorney in charge of a criminal division organized crime strike
    force established pursuant to section 510 of title 28, United States Code ..."

Each registered official holds exactly one of these authorities; no delegate, no free-text
title. The Justice-only authorities may request only for an agency of the Department of
Justice; the rulebook names which agency codes those are (``requesters.justice_agencies``)
and may narrow, never widen, who may request.
"""

from __future__ import annotations

#: Authorities any Federal agency's official may hold.
ANY_AGENCY: tuple[str, ...] = ("agency-head", "inspector-general")

#: Authorities the statute gives only "in the case of the Department of Justice".
JUSTICE_ONLY: tuple[str, ...] = (
    "attorney-general",
    "deputy-attorney-general",
    "associate-attorney-general",
    "assistant-attorney-general",
    "fbi-director",
    "dea-administrator",
    "us-attorney",
    "special-prosecutor",
    "strike-force-attorney",
)

#: The whole vocabulary, in the statute's order.
AUTHORITIES: tuple[str, ...] = ANY_AGENCY + JUSTICE_ONLY

#: Agency codes of the Department of Justice and its components, for a rulebook without a
#: ``requesters.justice_agencies`` list (the shipped rulebook lists them itself).
JUSTICE_AGENCIES: frozenset[str] = frozenset(
    {
        "DOJ", "DOJ-OIG", "FBI", "DOJ-FBI", "DEA", "DOJ-DEA", "ATF", "DOJ-ATF", "USMS",
        "DOJ-USMS", "EOUSA", "USAO", "DOJ-USAO", "DOJ-CRM", "DOJ-OCDETF", "OCDETF", "BOP",
        "DOJ-BOP",
    }
)  # fmt: skip

#: What each authority is, in the statute's words.
TITLES: dict[str, str] = {
    "agency-head": "the head of a Federal agency",
    "inspector-general": "the Inspector General of a Federal agency",
    "attorney-general": "the Attorney General",
    "deputy-attorney-general": "the Deputy Attorney General",
    "associate-attorney-general": "the Associate Attorney General",
    "assistant-attorney-general": "an Assistant Attorney General",
    "fbi-director": "the Director of the Federal Bureau of Investigation",
    "dea-administrator": "the Administrator of the Drug Enforcement Administration",
    "us-attorney": "a United States attorney",
    "special-prosecutor": "a special prosecutor appointed under 28 U.S.C. 593",
    "strike-force-attorney": (
        "an attorney in charge of a criminal division organized crime strike force"
    ),
}


def normalise_authority(text: str) -> str:
    """An authority as written by a person, in the vocabulary's spelling: case, spaces and
    underscores do not change which office is meant (nothing else is guessed).

    >>> normalise_authority("  Inspector General ")
    'inspector-general'
    >>> normalise_authority("US_Attorney")
    'us-attorney'
    """
    return "-".join(text.strip().lower().replace("_", " ").replace("-", " ").split())


def authority_problem(
    authority: str,
    agency: str,
    *,
    allowed: frozenset[str],
    justice_agencies: frozenset[str],
) -> str | None:
    """Why ``authority`` may not request for ``agency`` (``None``: it may).

    Args:
        authority: the official's registered authority (a value of :data:`AUTHORITIES`).
        agency: the requesting agency's code.
        allowed: the authorities the rulebook lets request (a subset of :data:`AUTHORITIES`).
        justice_agencies: agency codes that are the Department of Justice or one of its
            components (compared without regard to case).

    Example:
        >>> authority_problem("fbi-director", "DHS-ICE", allowed=frozenset(AUTHORITIES),
        ...                   justice_agencies=frozenset({"DOJ", "FBI"}))
        'authority `fbi-director` may request only for the Department of Justice'
    """
    if authority not in AUTHORITIES:
        return "the requesting official holds no authority 6103(i)(2)(A) lists"
    if authority not in allowed:
        return f"authority `{authority}` may not request under this rulebook"
    if authority in JUSTICE_ONLY and agency.strip().upper() not in justice_agencies:
        return f"authority `{authority}` may request only for the Department of Justice"
    return None
