"""The optional per-value source column through the records loader and the whole pipeline.

The records contract lists its columns; `dob_source` (the field catalogue's source column of
`dob`) may come along or not. Its cells are checked when the records are loaded: a word
outside the vocabulary refuses the file naming file, row and column, never the cell.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxgate.disclosure.fields import load_catalogue
from taxgate.errors import InputError
from taxgate.records.load import load_records
from taxgate.records.lookup import taxpayer_rows
from taxgate.types import RECORD_COLUMNS
from tests.conftest import World
from tests.test_records import rows, write_csv

SOURCES = load_catalogue().source_columns()
CORPUS = json.loads((Path(__file__).parent / "corpora" / "value_sources.json").read_text("utf-8"))
WITH = (*RECORD_COLUMNS, "dob_source")


def _parquet(path: Path, table_rows: list[dict[str, str]], cols: tuple[str, ...]) -> Path:
    pq.write_table(pa.table({c: [r.get(c, "") for r in table_rows] for c in cols}), path)
    return path


def _stored(target: Path) -> list[tuple[str, object]]:
    return duckdb.sql(f"SELECT tin, dob_source FROM '{target}' ORDER BY tin").fetchall()


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_records_without_the_column_load_as_before(tmp_path: Path, kind: str) -> None:
    data = rows(5)
    src = (
        write_csv(tmp_path / "r.csv", data)
        if kind == "csv"
        else _parquet(tmp_path / "r.parquet", data, RECORD_COLUMNS)
    )
    target = tmp_path / "w" / "records.parquet"
    assert load_records(src, target, source_columns=SOURCES).rows == 5
    assert tuple(duckdb.sql(f"SELECT * FROM '{target}'").columns) == RECORD_COLUMNS


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_the_column_is_kept_normalised(tmp_path: Path, kind: str) -> None:
    cells = [c["cell"] for c in CORPUS["accepted"]]
    data = [{**r, "dob_source": cell} for r, cell in zip(rows(len(cells)), cells, strict=True)]
    src = (
        write_csv(tmp_path / "r.csv", data, WITH)
        if kind == "csv"
        else _parquet(tmp_path / "r.parquet", data, WITH)
    )
    target = tmp_path / "w" / "records.parquet"
    load_records(src, target, source_columns=SOURCES)
    assert tuple(duckdb.sql(f"SELECT * FROM '{target}'").columns) == WITH
    assert [s for _, s in _stored(target)] == [c["stored"] for c in CORPUS["accepted"]]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("case", CORPUS["refused"], ids=lambda c: c["why"])
def test_a_cell_outside_the_vocabulary_refuses_the_file(
    tmp_path: Path, kind: str, case: dict[str, str]
) -> None:
    target = tmp_path / "w" / "records.parquet"
    good = [{**r, "dob_source": "ssa"} for r in rows(4)]
    load_records(write_csv(tmp_path / "old.csv", good, WITH), target, source_columns=SOURCES)
    bad = [dict(r) for r in good]
    bad[2]["dob_source"] = case["cell"]
    src = (
        write_csv(tmp_path / "r.csv", bad, WITH)
        if kind == "csv"
        else _parquet(tmp_path / "r.parquet", bad, WITH)
    )
    with pytest.raises(InputError) as caught:
        load_records(src, target, source_columns=SOURCES)
    err = caught.value
    assert (err.file, err.row, err.column) == (str(src), 4 if kind == "csv" else 3, "dob_source")
    assert "not a known source" in str(err) and "form_w7" in str(err)
    assert case["cell"].strip() not in err.reason  # the cell is never quoted back
    assert [s for _, s in _stored(target)] == ["ssa"] * 4  # the old records stay whole


def test_the_column_only_where_the_catalogue_names_it(tmp_path: Path) -> None:
    data = [{**r, "dob_source": "ssa"} for r in rows(2)]
    src = write_csv(tmp_path / "r.csv", data, WITH)
    with pytest.raises(InputError) as caught:
        load_records(src, tmp_path / "w.parquet")  # a loader told of no source column
    assert caught.value.row == 1 and "column 22 not in the contract" in str(caught.value)
    other = write_csv(tmp_path / "o.csv", rows(2), (*RECORD_COLUMNS, "wages_source"))
    with pytest.raises(InputError):
        load_records(other, tmp_path / "w.parquet", source_columns=SOURCES)
    twice = tmp_path / "t.csv"
    with twice.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow([*WITH, "dob_source"])
        w.writerow([rows(1)[0].get(c, "") for c in RECORD_COLUMNS] + ["ssa", "form_w7"])
    with pytest.raises(InputError) as caught:
        load_records(twice, tmp_path / "w.parquet", source_columns=SOURCES)
    assert "`dob_source` repeated" in str(caught.value)


def test_the_synthetic_world_exercises_both_sides(world: World) -> None:
    """Through the command line: a W-7 date of birth withheld with D-TRI, an SSA one and one
    without a source disclosed (the generator writes `dob_source` for some taxpayers)."""
    records = world.workdir / "records" / "records.parquet"  # encrypted at rest
    truth = world.truth_rows()
    found = taxpayer_rows(records, {t["tin"] for t in truth.values() if t["tin"]})
    sources = {tin: {r.get("dob_source") for r in rows} for tin, rows in found.items()}
    with (world.batch / "requests.csv").open(encoding="utf-8", newline="") as f:
        asked = {r["request_id"]: r["info_requested"].split(";") for r in csv.DictReader(f)}
    seen: dict[object, int] = {}
    for d in world.decisions():
        if d["status"] != "DISCLOSED" or "dob" not in asked[d["request_id"]]:
            continue
        (source,) = sources[truth[d["request_id"]]["tin"]]  # one source per taxpayer here
        withheld = {w["field"]: w["code"] for w in d["withheld_fields"]}
        if source == "form_w7":
            assert withheld.get("dob") == "D-TRI" and "dob" not in d["disclosed_fields"]
        else:
            assert "dob" in d["disclosed_fields"] and "dob" not in withheld
        seen[source] = seen.get(source, 0) + 1
    assert seen.get("form_w7") and seen.get("ssa") and seen.get(None), seen
    response = (world.out / "response.jsonl").read_text(encoding="utf-8")
    w7 = [d for d in world.decisions() if {"field": "dob", "code": "D-TRI"} in d["withheld_fields"]]
    for d in w7:
        line = next(json.loads(x) for x in response.splitlines() if d["request_id"] in x)
        assert "dob" not in line["fields"]
