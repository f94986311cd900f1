"""The notice every response carries: the use and redisclosure limits and the penalties.

It travels in the signed response manifest (``notice``), so the receiving agency cannot
receive return information without it and cannot strip it without breaking the signature.
"""

from __future__ import annotations

NOTICE = (
    "Return information disclosed under 26 U.S.C. 6103(i)(2). It may be used solely by the "
    "officers and employees personally and directly engaged in the Federal criminal "
    "proceeding or investigation named in each request, and solely for that proceeding or "
    "investigation (6103(i)(2)(A)); not for any civil purpose such as removal, deportation "
    "or an administrative immigration arrest. It may not be redisclosed except as 26 U.S.C. "
    "6103 permits, and must be safeguarded as 6103(p)(4) requires. Unauthorized disclosure "
    "is a felony under 26 U.S.C. 7213, unauthorized inspection an offense under 26 U.S.C. "
    "7213A, and either gives the taxpayer a civil action for damages under 26 U.S.C. 7431. "
    "A field withheld as taxpayer return information (D-TRI) can be obtained only by an ex "
    "parte court order under 26 U.S.C. 6103(i)(1)."
)
