"""Build a signed batch of held-for-review requests from the world's disclosed ones (the
mutations of ``cases/review_mutations.json``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tests.conftest import World, taxgate

CASES = Path(__file__).resolve().parent / "cases" / "review_mutations.json"


def _swap_house_digits(row: dict[str, str]) -> bool:
    number, _, rest = row["address_line1"].partition(" ")
    if not number.isdigit() or len(set(number)) < 2:
        return False
    swapped = number[1] + number[0] + number[2:]
    row["address_line1"] = f"{swapped} {rest}"
    return True


def _first_initial(row: dict[str, str]) -> bool:
    first = row["first_name"]
    if len(first) < 3 or " " in first:
        return False
    row["first_name"] = first[0]
    return True


def _street_type(row: dict[str, str]) -> bool:
    words = row["address_line1"].split()
    kinds = {"St": "Ave", "Ave": "St", "Dr": "Ct", "Rd": "Ln", "Ln": "Rd", "Ct": "Dr"}
    if len(words) < 3 or words[-1] not in kinds:
        return False
    row["address_line1"] = " ".join([*words[:-1], kinds[words[-1]]])
    return True


MUTATIONS = {
    "swap_house_digits": _swap_house_digits,
    "first_initial": _first_initial,
    "street_type": _street_type,
}


#: A runner-up who is plausible but not close enough to make the request ambiguous: the
#: candidate's twin sister (same date of birth, same address, the same first initial) under
#: a married name and another middle name.
RUNNER_UP = "REVIEW-RUNNER-UP"
TWIN_TIN = "999999990"
TWIN_FIRST = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    "Alma Bea Cora Dina Edie Faye Gwen Hope Iris Joan Kira Lena Mina Nora Opal Pia Quinn "
    "Rosa Sian Tara Uma Vera Wren Xena Yara Zoe").split(), strict=True))  # fmt: skip
TWIN_LAST = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    "Abbott Barrow Carver Dalton Ellery Fenwick Garland Hollis Ingram Jessop Kendrick "
    "Langley Marlow Norwood Oakley Prescott Quimby Radley Sutton Thorne Upton Vickers "
    "Whitlock Xiang Yardley Zeller").split(), strict=True))  # fmt: skip


def _with_twin(world: World, root: Path, workdir: Path, row: dict[str, str], tin: str) -> None:
    """Load the world's records plus the twin of taxpayer ``tin`` (every tax year)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(world.records)
    rows = [r for r in table.to_pylist() if r["tin"] == tin]
    first, last = rows[0]["first_name"], rows[0]["last_name"]
    twin_first = TWIN_FIRST.get(first[:1].upper(), "Tess")
    twin_first = twin_first if twin_first != first else twin_first + "lyn"
    twin_last = TWIN_LAST.get(last[:1].upper(), "Ostrova")
    twin_last = twin_last if twin_last != last else twin_last + "-Hale"
    twin = [
        {**r, "tin": TWIN_TIN, "first_name": twin_first, "middle_name": "Quill",
         "last_name": twin_last}
        for r in rows
    ]  # fmt: skip
    records = root / "records-with-twin.parquet"
    pq.write_table(pa.concat_tables([table, pa.Table.from_pylist(twin, schema=table.schema)]),
                   records)  # fmt: skip
    taxgate("records", "load", records, "--workdir", workdir)


def _runner_up_request(
    world: World, rows: list[dict[str, str]], root: Path, workdir: Path
) -> dict[str, str]:
    """A request for a disclosed taxpayer, sent with the first initial only and a zip code
    with two digits swapped, after the taxpayer's twin was added to the records: the
    candidate differs from it in two elements a person must judge; the twin agrees on the
    date of birth and the address and disagrees on the middle and last names (a runner-up
    far below the ambiguity threshold)."""
    truth = world.truth_rows()
    for row in rows:
        z = row["zip"]
        if row["middle_name"] and row["date_of_birth"] and len(z) == 5 and z[3] != z[4]:
            _with_twin(world, root, workdir, row, truth[row["request_id"]]["tin"])
            return {**row, "request_id": RUNNER_UP, "first_name": row["first_name"][0],
                    "zip": z[:3] + z[4] + z[3]}  # fmt: skip
    raise AssertionError("no disclosed request with a middle name, a date of birth and a zip")


def review_batch(
    world: World, root: Path, workdir: Path, *, runner_up: bool = False
) -> tuple[Path, dict[str, dict[str, Any]]]:
    """A signed batch whose requests are disclosed ones, each changed by one mutation;
    returns it and, by new request id, the case it carries. With ``runner_up``, the records
    gain a twin and the batch the request :data:`RUNNER_UP` (not among the cases)."""
    cases = json.loads(CASES.read_text(encoding="utf-8"))["cases"]
    disclosed = {d["request_id"] for d in world.decisions() if d["status"] == "DISCLOSED"}
    with (world.batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = [r for r in reader if r["request_id"] in disclosed and not r["address_line2"]]
    batch = root / "review-batch"
    batch.mkdir(parents=True)
    out, chosen = [], {}
    pool = iter(rows)
    for n, case in enumerate(cases):
        for row in pool:
            changed = dict(row)
            if MUTATIONS[case["mutate"]](changed):
                changed["request_id"] = f"REVIEW-{n:03d}"
                out.append(changed)
                chosen[changed["request_id"]] = case
                break
    if runner_up:
        out.append(_runner_up_request(world, list(pool), root, workdir))
    with (batch / "requests.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(out)
    manifest = json.loads((world.batch / "manifest.json").read_text(encoding="utf-8"))
    manifest["batch_id"] = "REVIEW-BATCH-1"
    (batch / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    taxgate("sign", batch, "--key", world.key, "--workdir", workdir)
    return batch, chosen
