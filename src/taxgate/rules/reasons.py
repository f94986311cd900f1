"""R-REASON: a specific reason, not boilerplate.

A reason is normalised (casefold, punctuation dropped, spaces collapsed, the request's own
names, case number and address replaced by placeholders, every digit run by ``#``) so that a
template filled with different people's details gives one key. Keys are then grouped: the
same key, or keys whose word 3-shingle sets have Jaccard similarity at or above the
rulebook's threshold, count together.

Near-duplicate grouping is exact and near-linear (:mod:`taxgate.rules.neardup`).

Example:
    >>> from taxgate.types import Request
    >>> reason_key(Request("r1", first_name="Ana", last_name="Ruiz", reason="Ana Ruiz, 3 wires"))
    '<p> # wires'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from taxgate.rules.neardup import ShingleTable, group_keys
from taxgate.types import Request

_P = "<p>"
_P_PAIR = "<p> <p>"
_P_RUNS = re.compile(r"<p>(?: <p>)+")
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~’‘“”„–—…«»¿¡·•§¶†‡′″"
_SEPARATORS = {
    **{ord(ch): " " for ch in _PUNCTUATION},
    **{ord(d): "#" for d in "0123456789"},
}


def _split(text: str) -> list[str]:
    """Casefolded words: punctuation is a separator, every digit becomes ``#``."""
    return text.casefold().translate(_SEPARATORS).split()


def reason_key(request: Request) -> str:
    """The normalised reason the store keeps for history ("" for an empty reason).

    Casefold, punctuation dropped, every run of digits one ``#``, and every word of the
    request's own names, case number and address replaced by ``<p>``; a run of consecutive
    ``<p>`` is one ``<p>``, so that "Wei" and "García Rodríguez" fill a template alike.
    """
    reason = request.reason
    if not reason or reason.isspace():
        return ""
    personal = {
        w
        for w in _split(
            f"{request.first_name} {request.middle_name} {request.last_name} "
            f"{request.case_number} {request.address_line1} {request.address_line2} "
            f"{request.city}"
        )
        if "#" not in w
    }
    text = reason.casefold().translate(_SEPARATORS)
    while "##" in text:  # every digit is "#" now; a run becomes one "#"
        text = text.replace("##", "#")
    key = " ".join([_P if w in personal else w for w in text.split()])
    return _P_RUNS.sub(_P, key) if _P_PAIR in key else key


def merge_placeholders(key: str) -> str:
    """A stored key in today's form: single spaces, a run of ``<p>`` one ``<p>``.

    Keys stored before runs were merged still count against the same template.
    """
    key = " ".join(key.split())
    return _P_RUNS.sub(_P, key) if _P_PAIR in key else key


def word_count(reason: str) -> int:
    """Words in a reason: whitespace-separated runs."""
    return len(reason.split())


def boilerplate_keys(
    keys: Sequence[str], batch_counts: Sequence[int], history_counts: Sequence[int],
    *, threshold: float, cap: int,
) -> set[int]:  # fmt: skip
    """Indexes of keys whose group appears in more than ``cap`` requests.

    Args:
        keys: distinct normalised reasons (batch and history).
        batch_counts: requests of this batch per key.
        history_counts: earlier requests per key.
        threshold: Jaccard similarity at or above which two keys are the same reason.
        cap: the boilerplate cap.
    """
    table = ShingleTable()
    for k in keys:
        table.add(k)
    return boilerplate_in_table(table, batch_counts, history_counts, threshold=threshold, cap=cap)


def boilerplate_in_table(
    table: ShingleTable, batch_counts: Sequence[int], history_counts: Sequence[int],
    *, threshold: float, cap: int, threads: int = 1,
) -> set[int]:  # fmt: skip
    """:func:`boilerplate_keys` over an already filled :class:`ShingleTable`.

    The grouping's bulk array work runs in ``threads`` threads.
    """
    table.freeze()
    comp = group_keys(table, threshold, threads=threads)
    totals: dict[int, int] = {}
    for i, c in enumerate(comp):
        totals[c] = totals.get(c, 0) + batch_counts[i] + history_counts[i]
    return {i for i, c in enumerate(comp) if totals[c] > cap}
