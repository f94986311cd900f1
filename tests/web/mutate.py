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


def review_batch(world: World, root: Path, workdir: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """A signed batch whose requests are disclosed ones, each changed by one mutation;
    returns it and, by new request id, the case it carries."""
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
    with (batch / "requests.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(out)
    manifest = json.loads((world.batch / "manifest.json").read_text(encoding="utf-8"))
    manifest["batch_id"] = "REVIEW-BATCH-1"
    (batch / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    taxgate("sign", batch, "--key", world.key, "--workdir", workdir)
    return batch, chosen
