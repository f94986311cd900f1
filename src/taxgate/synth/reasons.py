"""Specific, distinct reasons; officers; case numbers - the valid parts of a request.

A reason is composed from slots (how the person came to notice, the alleged
conduct, the place, how often, when, a concrete detail, why the records are
needed). The k-th reason of a batch encodes k in mixed radix over the slots,
through a per-seed permutation of each slot, so no two reasons of a batch are
the same, and two reasons always differ in a whole phrase: far below the
near-duplicate threshold of the boilerplate rule (word 3-shingle Jaccard 0.9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taxgate.synth.names import FIRST, LAST, POPULATIONS


def _lines(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.strip().splitlines() if s.strip())


OPENERS = _lines("""
An informant said the subject
A border stop revealed the subject
Wiretap intercepts indicate the subject
A cooperating defendant stated the subject
Bank intelligence reports suggest the subject
A hotline caller reported the subject
Task force surveillance showed the subject
Seized ledgers indicate the subject
A fraud referral alleges the subject
Two witnesses said the subject
Phone extraction evidence suggests the subject
A port inspection found the subject
Prior arrest records show the subject
An employer audit indicates the subject
A consular lead says the subject
Undercover purchases established the subject
State police report the subject
Shipping manifests show the subject
A landlord complaint alleges the subject
Recorded jail calls indicate the subject
Money transmitter reports suggest the subject
Warrant returns show the subject
A document examiner concluded the subject
An anonymous letter claims the subject
Plate reader data indicates the subject
Hospital security staff reported the subject
Customs paperwork shows the subject
A detained courier said the subject
Visa application files suggest the subject
Task force debriefs indicate the subject
""")

PLACES = _lines("""
at a rail yard warehouse
from a tire shop
out of a storage unit
at an interstate motel
from a food truck lot
through a check cashing store
at a farm labor camp
behind a laundromat
at a flea market stall
from a riverside trucking yard
at a downtown construction site
through a remittance office
at a strip mall salon
from a restaurant kitchen
out of a trailer park
at a meat packing plant
through a staffing agency
at a highway car wash
from a print shop
at a grocery loading dock
inside a bus terminal
from an auto body garage
at a produce distribution center
through a tax preparation storefront
at a hotel laundry
out of a horse ranch
from a container yard
at a rented event hall
through a phone repair kiosk
at a poultry plant
from a furniture warehouse
at a roofing company yard
out of a basement apartment
from a church parking lot
at a dairy farm
through a travel agency
at a seafood dock
above a bakery
at a landscaping supply yard
near a hospital garage
""")

TIMINGS = _lines("""
on three occasions in
repeatedly during
for several weeks in
on two nights in
beginning in
as recently as
weekly in
several times in
most weekends in
on one trip in
for days in
almost daily in
on one date in
on consecutive weekends in
twice during
four times in
on multiple mornings in
intermittently during
nonstop through
one night in
""")

MONTHS = _lines("""
January
February
March
April
May
June
July
August
September
October
November
December
""")

DETAILS = _lines("""
Bank records show deposits just under reporting limits.
Two witnesses picked the subject from photos.
A seized phone lists the subject by nickname.
Payroll shows wages paid under a borrowed number.
Surveillance photos place the car at the site.
Wire transfers went to relatives in three countries.
A lease was signed under a false identity.
Vehicle registrations trace back to one shared address.
Utility bills there carry the same alias.
Intercepted messages discuss payment amounts and pickup times.
Receipts from a trash pull name the subject.
A ledger records regular payments to the subject.
Employers knew the subject under two different surnames.
Seized notebooks list the delivery routes used.
Money order stubs carry the subject's signature.
Hotel registers show repeated stays by the subject.
Fingerprints on seized packaging match the subject.
Border crossing records show frequent short trips.
Coworkers describe the subject as the crew boss.
Shipping labels bear the subject's handwriting.
GPS data from a seized truck matches.
Prepaid card purchases cluster near the home.
A storage lease lists the subject as tenant.
Workers say they were paid cash every Friday.
Pawn records show jewelry sold by the subject.
Dealership files show cash car purchases.
An informant recorded a meeting with the subject.
Passport scans reveal two different birth dates.
Toll records link the subject to known smugglers.
Several tenants named the subject as their landlord.
Seized invoices list the subject as a buyer.
Remittance logs show transfers far above typical wages.
A license photo matches a forged resident card.
An email account held templates of fake documents.
Delivery drivers identified the subject at the dock.
A confidential source bought papers from the subject.
Airline records show tickets paid in cash.
Bus company records list the subject as purchaser.
Rent for several units came from the subject.
A pharmacy clerk reported bulk purchases.
""")

PURPOSES = _lines("""
Returns would confirm identity and income.
Employer filings would show the workplace.
An address on file would aid arrest.
Reported wages would be checked against cash.
Records would identify the paying employer.
Filing history would confirm the residence period.
Income data would help trace the proceeds.
Information returns could reveal receiving accounts.
A current address is needed for warrants.
Wage reports would test the claimed employment.
Records would link the shell business.
Address history would connect the site.
Employer details would help find other victims.
Reported income would show hidden proceeds.
Filing addresses would confirm the district.
Records would separate the subject from relatives.
Information returns would expose the front company.
Address data supports a pending arrest warrant.
Income records would gauge the operation.
Identity records would settle the true name.
Employment records would show crew ties.
Return data would show straw worker payments.
A verified address would permit a search.
Employer data would identify the trucking company.
This would narrow the search for accomplices.
""")

# Alleged conduct by statute (decoration: follows the statute, not counted for uniqueness).
CONDUCT: dict[str, tuple[str, ...]] = {
    "smuggling": _lines("""
        moved undocumented workers by box truck
        harbored recently arrived migrants for pay
        recruited drivers to move migrants inland
        collected smuggling fees from relatives
        arranged border crossings for paying migrants
    """),
    "entry": _lines("""
        reentered the country after removal
        ignored a final removal order
        crossed the border without inspection
        returned after removal using another name
    """),
    "documents": _lines("""
        sold counterfeit permanent resident cards
        worked under a stolen identity
        supplied forged visas to job applicants
        manufactured fake social security cards
    """),
    "money": _lines("""
        moved smuggling proceeds through shell accounts
        laundered cash through car sales
        hid trafficking proceeds in real estate
    """),
    "drugs": _lines("""
        distributed fentanyl pills for traffickers
        stored methamphetamine for a regional supplier
        delivered cocaine to street level sellers
    """),
}

# Criminal, non-tax statutes (written in the varied ways agencies write them), with conduct.
VALID_STATUTES: tuple[tuple[str, str], ...] = (
    ("8 U.S.C. 1324", "smuggling"),
    ("8 U.S.C. § 1324(a)(1)(A)", "smuggling"),
    ("8 USC 1324", "smuggling"),
    ("8 U.S.C. 1325", "entry"),
    ("8 U.S.C. 1326", "entry"),
    ("8 U.S.C. §1326", "entry"),
    ("8 U.S.C. 1253(a)(1)", "entry"),
    ("18 U.S.C. 1028", "documents"),
    ("18 U.S.C. 1546", "documents"),
    ("18 U.S.C. 1956", "money"),
    ("21 U.S.C. 841", "drugs"),
)

_SLOTS = (OPENERS, PLACES, TIMINGS, MONTHS, DETAILS, PURPOSES)
REASON_SPACE = int(np.prod([len(s) for s in _SLOTS]))
_SCRAMBLE = 1_000_003  # prime, coprime with REASON_SPACE: k -> slots is a bijection


@dataclass(frozen=True)
class ReasonMaker:
    """Distinct reasons for one batch: ``reason(k)`` for k in 0..REASON_SPACE-1."""

    perms: tuple[tuple[int, ...], ...]
    offset: int
    years: tuple[int, ...]

    @classmethod
    def for_seed(cls, seed: int, years: tuple[int, ...]) -> ReasonMaker:
        rng = np.random.default_rng([seed, 4_242])
        perms = tuple(tuple(int(i) for i in rng.permutation(len(s))) for s in _SLOTS)
        return cls(perms, int(rng.integers(0, REASON_SPACE)), years)

    def slots(self, k: int) -> tuple[int, ...]:
        """The variant of each slot that the k-th reason uses."""
        x = (_SCRAMBLE * k + self.offset) % REASON_SPACE
        out = []
        for perm in self.perms:
            x, digit = divmod(x, len(perm))
            out.append(perm[digit])
        return tuple(out)

    def reason(self, k: int, conduct_group: str) -> str:
        """The k-th reason of the batch, its conduct drawn from ``conduct_group``."""
        o, p, t, m, d, u = self.slots(k)
        conduct = CONDUCT[conduct_group]
        mix = (k * 2_654_435_761) >> 7
        year = self.years[mix % len(self.years)]
        return compose(o, conduct[(mix // 5) % len(conduct)], p, t, m, year, d, u)

    def reasons(self, ks: np.ndarray, conduct_groups: list[str]) -> list[str]:
        """``reason(k, group)`` for each pair of ``ks`` and ``conduct_groups``, vectorised."""
        ks = np.asarray(ks, np.int64)
        x = (_SCRAMBLE * ks + self.offset) % REASON_SPACE
        digits = []
        for perm in self.perms:
            x, digit = np.divmod(x, len(perm))
            digits.append(np.asarray(perm, np.int64)[digit].tolist())
        mix = (ks * 2_654_435_761) >> 7
        years = np.asarray(self.years)[mix % len(self.years)].tolist()
        pick = (mix // 5).tolist()
        o, p, t, m, d, u = digits
        return [
            f"{OPENERS[o[j]]} {CONDUCT[g][pick[j] % len(CONDUCT[g])]} {PLACES[p[j]]} "
            f"{TIMINGS[t[j]]} {MONTHS[m[j]]} {years[j]}. {DETAILS[d[j]]} {PURPOSES[u[j]]}"
            for j, g in enumerate(conduct_groups)
        ]


def compose(o: int, conduct: str, p: int, t: int, m: int, year: int, d: int, u: int) -> str:
    """One reason from slot variants (used by the maker and by the tests)."""
    return (
        f"{OPENERS[o]} {conduct} {PLACES[p]} {TIMINGS[t]} {MONTHS[m]} {year}. "
        f"{DETAILS[d]} {PURPOSES[u]}"
    )


_TITLES = ("Special Agent", "SA", "Officer", "Det.", "Agent", "Deportation Officer", "", "", "")
_OFF_FIRST: tuple[str, ...] = tuple(
    sorted({n for pop in POPULATIONS for pool in FIRST[pop] for n in pool if " " not in n})
)
_OFF_LAST: tuple[str, ...] = tuple(sorted({n for pop in POPULATIONS for n in LAST[pop]}))
_INITIALS = "ABCDEFGHJKLMNPRSTW"
OFFICER_SPACE = len(_OFF_FIRST) * len(_INITIALS) * len(_OFF_LAST)


def officer_name(seed: int, k: int) -> str:
    """The k-th distinct investigating officer of a batch ("Special Agent Rosa K. Ibarra")."""
    x = (k * 7_919 + seed * 104_729) % OFFICER_SPACE
    x, f = divmod(x, len(_OFF_FIRST))
    x, i = divmod(x, len(_INITIALS))
    last = _OFF_LAST[x % len(_OFF_LAST)]
    title = _TITLES[(k * 31 + seed) % len(_TITLES)]
    return " ".join(p for p in (title, _OFF_FIRST[f], f"{_INITIALS[i]}.", last) if p)


_CASE_PREFIX = ("ICE", "HSI-NY", "HSI-TX", "HSI-CA", "HSI-FL", "ERO-CHI", "HSI-AZ", "ICE-ERO")
CASE_SPACE = 10_000_000


def case_number(seed: int, k: int, year: int) -> str:
    """The k-th distinct case number of a batch ("HSI-TX-24-0004417")."""
    num = (k * 7_654_321 + seed * 1_000_003) % CASE_SPACE
    prefix = _CASE_PREFIX[(k + seed) % len(_CASE_PREFIX)]
    return f"{prefix}-{year % 100:02d}-{num:07d}"
