"""Synthetic but plausible U.S. addresses: real USPS ZIP3 prefixes, cities, streets.

The ZIP3 ranges are the real USPS assignments by state (territories included),
so a generated ZIP always fits its state. Street addresses are made up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Real USPS three-digit ZIP prefixes by state (inclusive ranges).
ZIP3_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "PR": ((6, 7), (9, 9)),
    "VI": ((8, 8),),
    "MA": ((10, 27), (55, 55)),
    "RI": ((28, 29),),
    "NH": ((30, 38),),
    "ME": ((39, 49),),
    "VT": ((50, 54), (56, 59)),
    "CT": ((60, 69),),
    "NJ": ((70, 89),),
    "NY": ((5, 5), (100, 149)),
    "PA": ((150, 196),),
    "DE": ((197, 199),),
    "DC": ((200, 200), (202, 205), (569, 569)),
    "MD": ((206, 212), (214, 219)),
    "VA": ((201, 201), (220, 246)),
    "WV": ((247, 268),),
    "NC": ((270, 289),),
    "SC": ((290, 299),),
    "GA": ((300, 319), (398, 399)),
    "FL": ((320, 339), (341, 342), (344, 344), (346, 347), (349, 349)),
    "AL": ((350, 369),),
    "TN": ((370, 385),),
    "MS": ((386, 397),),
    "KY": ((400, 427),),
    "OH": ((430, 459),),
    "IN": ((460, 479),),
    "MI": ((480, 499),),
    "IA": ((500, 528),),
    "WI": ((530, 549),),
    "MN": ((550, 567),),
    "SD": ((570, 577),),
    "ND": ((580, 588),),
    "MT": ((590, 599),),
    "IL": ((600, 629),),
    "MO": ((630, 658),),
    "KS": ((660, 679),),
    "NE": ((680, 693),),
    "LA": ((700, 714),),
    "AR": ((716, 729),),
    "OK": ((730, 732), (734, 749)),
    "TX": ((733, 733), (750, 799), (885, 885)),
    "CO": ((800, 816),),
    "WY": ((820, 831),),
    "ID": ((832, 838),),
    "UT": ((840, 847),),
    "AZ": ((850, 865),),
    "NM": ((870, 884),),
    "NV": ((889, 898),),
    "CA": ((900, 961),),
    "HI": ((967, 968),),
    "GU": ((969, 969),),
    "OR": ((970, 979),),
    "WA": ((980, 994),),
    "AK": ((995, 999),),
}


def zip_fits_state(zip_code: str, state: str) -> bool:
    """Whether a 5-digit ZIP's first three digits belong to ``state``.

    >>> zip_fits_state("77002", "TX"), zip_fits_state("10001", "TX")
    (True, False)
    """
    if len(zip_code) < 3 or not zip_code[:3].isdigit():
        return False
    z3 = int(zip_code[:3])
    return any(lo <= z3 <= hi for lo, hi in ZIP3_RANGES.get(state.upper(), ()))


# city | state | ZIP3 prefix that city really uses | weight (~ population)
_CITY_TABLE = """
New York|NY|100|30; Bronx|NY|104|14; Brooklyn|NY|112|22; Flushing|NY|113|10;
Jamaica|NY|114|6; Yonkers|NY|107|4; Buffalo|NY|142|4; Rochester|NY|146|3;
Los Angeles|CA|900|30; Santa Ana|CA|927|6; Irvine|CA|926|4; Garden Grove|CA|928|4;
Riverside|CA|925|6; San Diego|CA|921|12; San Jose|CA|951|9; Fremont|CA|945|4;
San Francisco|CA|941|8; Oakland|CA|946|5; Sacramento|CA|958|6; Fresno|CA|937|6;
Bakersfield|CA|933|4; Houston|TX|770|22; Dallas|TX|752|13; San Antonio|TX|782|14;
Austin|TX|787|9; El Paso|TX|799|7; Fort Worth|TX|761|8; Laredo|TX|780|3; McAllen|TX|785|3;
Brownsville|TX|785|2; Miami|FL|331|12; Hialeah|FL|330|5; Orlando|FL|328|7; Tampa|FL|336|7;
Jacksonville|FL|322|8; Chicago|IL|606|22; Cicero|IL|608|2; Aurora|IL|605|3;
Phoenix|AZ|850|14; Tucson|AZ|857|5; Mesa|AZ|852|4; Philadelphia|PA|191|12;
Pittsburgh|PA|152|4; Allentown|PA|181|2; Atlanta|GA|303|8; Savannah|GA|314|2;
Seattle|WA|981|8; Spokane|WA|992|3; Denver|CO|802|8; Aurora|CO|800|3; Boston|MA|021|7;
Worcester|MA|016|2; Providence|RI|029|3; Hartford|CT|061|2; Bridgeport|CT|066|2;
Newark|NJ|071|5; Elizabeth|NJ|072|3; Jersey City|NJ|073|4; Paterson|NJ|075|3;
Detroit|MI|482|7; Dearborn|MI|481|3; Hamtramck|MI|482|1; Grand Rapids|MI|495|3;
Minneapolis|MN|554|5; Saint Paul|MN|551|3; Las Vegas|NV|891|8; Reno|NV|895|3;
Albuquerque|NM|871|5; Las Cruces|NM|880|2; Charlotte|NC|282|6; Raleigh|NC|276|4;
Nashville|TN|372|5; Memphis|TN|381|5; New Orleans|LA|701|4; Baton Rouge|LA|708|3;
Baltimore|MD|212|5; Silver Spring|MD|209|3; Washington|DC|200|5; Richmond|VA|232|3;
Arlington|VA|222|3; Virginia Beach|VA|234|3; Columbus|OH|432|6; Cleveland|OH|441|4;
Cincinnati|OH|452|4; Indianapolis|IN|462|6; Milwaukee|WI|532|5; Kansas City|MO|641|4;
St. Louis|MO|631|4; Omaha|NE|681|4; Lincoln|NE|685|2; Oklahoma City|OK|731|5;
Tulsa|OK|741|4; Salt Lake City|UT|841|4; Portland|OR|972|5; Salem|OR|973|2;
Honolulu|HI|968|3; Anchorage|AK|995|2; Boise|ID|837|2; Louisville|KY|402|4;
Birmingham|AL|352|3; Little Rock|AR|722|2; Jackson|MS|392|2; Charleston|SC|294|2;
Columbia|SC|292|2; Des Moines|IA|503|2; Wichita|KS|672|3; Sioux Falls|SD|571|1;
Fargo|ND|581|1; Billings|MT|591|1; Cheyenne|WY|820|1; Wilmington|DE|198|2;
Manchester|NH|031|1; Portland|ME|041|1; Burlington|VT|054|1; Charleston|WV|253|1;
San Juan|PR|009|3
"""
CITIES: tuple[tuple[str, str, int, int], ...] = tuple(
    (c.strip(), s.strip(), int(z), int(w))
    for c, s, z, w in (e.split("|") for e in _CITY_TABLE.replace("\n", " ").split(";"))
)

_STREET_TABLE = """
Main, Oak, Maple, Cedar, Elm, Pine, Walnut, Chestnut, Willow, Birch, Washington, Lincoln,
Jefferson, Madison, Franklin, Jackson, Adams, Monroe, Park, Lake, Hill, Sunset, Highland,
Church, Mill, Spring, River, Ridge, Forest, Meadow, Valley, Prospect, Center, Union, Market,
Bridge, Water, Front, High, Grove, Magnolia, Palm, Orange Grove, Cypress, Sycamore, Dogwood,
Hickory, Laurel, Juniper, Aspen, Spruce, Poplar, Hawthorn, Harbor, Bay, Ocean, Shore, Canyon,
Mesa, Vista, Alameda, Mission, Rio Grande, Santa Fe, San Pedro, Los Robles, Buena Vista,
Pueblo, Sierra, Martin Luther King Jr, Kennedy, Roosevelt, Wilson, Grant, Hamilton, Cleveland,
Garfield, Pleasant, Fairview, Greenwood, Lakeview, Riverside, Woodland, Country Club, College,
School, Academy, Railroad, Depot, Factory, Commerce, Industrial, Airport, Station, Mulberry,
Peach, Cherry, Apple Blossom, Rosewood, Briarwood, Foxglove, Heather, Ivy, Primrose, Clover,
Summit, Crest, Glen, Hollow, Brook, Creek, Falls, Pond, Orchard, Vineyard, Farm, Ranch,
Prairie, Frontier, Liberty, Independence, Heritage, Colonial, Victoria, Windsor, Cambridge,
Oxford, Devon, Kent, York, Essex, 1st, 2nd, 3rd, 4th, 5th, 6th, 7th, 8th, 10th, 12th, 14th,
21st, 34th
"""
STREETS: tuple[str, ...] = tuple(
    s.strip() for s in _STREET_TABLE.replace("\n", " ").split(",") if s.strip()
)

SUFFIXES: tuple[str, ...] = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way", "Pl")
SUFFIX_WEIGHTS: tuple[int, ...] = (30, 22, 14, 6, 12, 6, 4, 3, 3)
SUFFIX_LONG: dict[str, str] = {
    "St": "Street",
    "Ave": "Avenue",
    "Rd": "Road",
    "Blvd": "Boulevard",
    "Dr": "Drive",
    "Ln": "Lane",
    "Ct": "Court",
    "Way": "Way",
    "Pl": "Place",
}
DIRECTIONALS: tuple[str, ...] = ("N", "S", "E", "W", "NE", "NW", "SE", "SW")
DIRECTIONAL_LONG: dict[str, str] = {
    "N": "North",
    "S": "South",
    "E": "East",
    "W": "West",
    "NE": "Northeast",
    "NW": "Northwest",
    "SE": "Southeast",
    "SW": "Southwest",
}

_CITY_NAME = pa.array([c[0] for c in CITIES], pa.string())
_CITY_STATE = pa.array([c[1] for c in CITIES], pa.string())
_CITY_ZIP3 = np.array([c[2] for c in CITIES], dtype=np.int64)
_CITY_P = np.array([c[3] for c in CITIES], dtype=np.float64) / sum(c[3] for c in CITIES)
_STREET = pa.array([s + " " for s in STREETS], pa.string())
_SUFFIX = pa.array(list(SUFFIXES), pa.string())
_SUFFIX_P = np.array(SUFFIX_WEIGHTS, dtype=np.float64) / sum(SUFFIX_WEIGHTS)
# index 0 = no directional
_DIR = pa.array([""] + [d + " " for d in DIRECTIONALS], pa.string())
# index 0 = no unit
_UNIT_KIND = pa.array(["", "Apt ", "Unit ", "Apt ", "# "], pa.string())
_UNIT_LETTER = pa.array(["", "", "", "A", "B", "C", "D"], pa.string())


@dataclass(frozen=True)
class Addresses:
    """A column batch of addresses (pyarrow string arrays of equal length)."""

    line1: pa.Array
    line2: pa.Array
    city: pa.Array
    state: pa.Array
    zip: pa.Array


def _num_str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def random_addresses(rng: np.random.Generator, n: int, unit_share: float = 0.2) -> Addresses:
    """Draw ``n`` complete, plausible addresses, vectorised.

    Args:
        rng: the random stream.
        n: how many.
        unit_share: share with an apartment/unit in ``line2``.

    Returns:
        Addresses whose ZIP prefix always belongs to the state.
    """
    house = rng.integers(1, 9900, n)
    small = rng.random(n) < 0.35
    house = np.where(small, rng.integers(1, 400, n), house)
    dir_idx = np.where(rng.random(n) < 0.15, rng.integers(1, len(DIRECTIONALS) + 1, n), 0)
    street_idx = rng.integers(0, len(STREETS), n)
    suffix_idx = rng.choice(len(SUFFIXES), size=n, p=_SUFFIX_P)
    line1 = pc.binary_join_element_wise(
        _num_str(house),
        pc.take(_DIR, pa.array(dir_idx)),
        pc.take(_STREET, pa.array(street_idx)),
        pc.take(_SUFFIX, pa.array(suffix_idx)),
        " ",
    )
    # "12 N Main St" but without doubled spaces: components already carry trailing spaces.
    line1 = pc.replace_substring(line1, "  ", " ")
    has_unit = rng.random(n) < unit_share
    unit_kind = np.where(has_unit, rng.integers(1, 5, n), 0)
    unit_num = rng.integers(1, 40, n) * np.where(rng.random(n) < 0.5, 100, 1) + rng.integers(
        0, 10, n
    ) * np.where(rng.random(n) < 0.5, 1, 0)
    unit_letter = np.where(has_unit & (rng.random(n) < 0.25), rng.integers(3, 7, n), 0)
    line2 = pc.binary_join_element_wise(
        pc.take(_UNIT_KIND, pa.array(unit_kind)),
        _num_str(unit_num),
        pc.take(_UNIT_LETTER, pa.array(unit_letter)),
        "",
    )
    line2 = pc.if_else(pa.array(has_unit), line2, "")
    city_idx = rng.choice(len(CITIES), size=n, p=_CITY_P)
    zip_num = _CITY_ZIP3[city_idx] * 100 + rng.integers(1, 100, n)
    zips = pc.utf8_lpad(_num_str(zip_num), 5, "0")
    return Addresses(
        line1=line1,
        line2=line2,
        city=pc.take(_CITY_NAME, pa.array(city_idx)),
        state=pc.take(_CITY_STATE, pa.array(city_idx)),
        zip=zips,
    )


def foreign_zip(rng: np.random.Generator, state: str) -> str:
    """A real-looking ZIP whose prefix belongs to some state other than ``state``."""
    while True:
        i = int(rng.integers(0, len(CITIES)))
        if CITIES[i][1] != state.upper():
            z = f"{CITIES[i][2] * 100 + int(rng.integers(1, 100)):05d}"
            if not zip_fits_state(z, state):
                return z
