"""Decision lines streamed to the output folder as they are decided (pipeline.DecisionLines):
the file holds every request once, in the batch's order, earlier decisions (R-DUPLICATE)
read back from the store in their place, and nothing is published before the end."""

from __future__ import annotations

import json
from pathlib import Path

from taxgate.pipeline import DECISIONS_FILE, DecisionFile, DecisionLines


def _body(rid: str, status: str = "REJECTED") -> dict[str, object]:
    return {
        "request_id": rid,
        "status": status,
        "reasons": [{"code": "R-CASE", "citation": "c", "message": "m"}],
        "trace": [
            {"code": "R-CASE", "passed": False, "detail": ""},
            {"code": "R-NAME", "passed": True, "detail": ""},
            {"code": "R-REQUESTER", "passed": True, "detail": "authority: agency-head"},
        ],
        "audit_index": 3,
    }


def test_new_and_earlier_lines_keep_the_batch_order(tmp_path: Path) -> None:
    lines = DecisionLines(tmp_path)
    for rid in ("a", "c", "e"):
        lines.add(_body(rid))
    assert not (tmp_path / DECISIONS_FILE).exists()  # nothing published while deciding
    earlier = {"b": _body("b", "DISCLOSED"), "d": _body("d", "NO_MATCH")}
    out = lines.finish(["a", "b", "c", "d", "e"], earlier)
    assert isinstance(out, DecisionFile) and len(out) == 5
    out.publish(tmp_path / DECISIONS_FILE)
    text = (tmp_path / DECISIONS_FILE).read_text(encoding="utf-8").splitlines()
    got = [json.loads(x) for x in text]
    assert [d["request_id"] for d in got] == ["a", "b", "c", "d", "e"]
    assert [d["status"] for d in got] == [
        "REJECTED",
        "DISCLOSED",
        "REJECTED",
        "NO_MATCH",
        "REJECTED",
    ]
    # the checks that failed or say something stay; a silent pass is left out
    assert [t["code"] for t in got[0]["trace"]] == ["R-CASE", "R-REQUESTER"]
    assert got[1]["reasons"] == _body("b")["reasons"]
    assert list(out) == got and out[3]["request_id"] == "d"
    assert sorted(p.name for p in tmp_path.iterdir()) == [DECISIONS_FILE]


def test_without_an_output_folder_the_bodies_are_kept_whole() -> None:
    lines = DecisionLines(None)
    lines.add(_body("a"))
    out = lines.finish(["z", "a"], {"z": _body("z", "DISCLOSED")})
    assert [d["request_id"] for d in out] == ["z", "a"]
    assert len(out[1]["trace"]) == 3  # type: ignore[arg-type]
