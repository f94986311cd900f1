"""Reading a batch folder: ``manifest.json`` and ``requests.csv``, every problem located.

A file that cannot be read as the contract says is refused whole with an error that
names the file, the row and the column; values are never quoted in errors.
"""

from __future__ import annotations

import csv
import json
import math
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate import collector
from taxgate.errors import InputError
from taxgate.intake.header import header_positions
from taxgate.intake.signing import sign_manifest
from taxgate.types import REQUEST_COLUMNS, BatchInfo, Official, Request

MAX_FIELD_CHARS = 4000
CSV_FIELD_LIMIT = 1024 * 1024
#: Control characters a field may not hold (tab, newline and carriage return are allowed).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_REQUESTS_BYTES = 2 * 1024**3
#: A manifest is a few hundred bytes; these bounds refuse hostile ones with a clear error.
MAX_MANIFEST_BYTES = 64 * 1024
MAX_MANIFEST_DEPTH = 4
MAX_NUMBER_DIGITS = 30
#: The longest batch id, agency code, official's name or title, or timestamp accepted.
MAX_MANIFEST_TEXT = 200
MANIFEST_KEYS = ("batch_id", "agency", "official", "submitted_at", "requests_sha256", "signature")


@dataclass(frozen=True, slots=True)
class RawBatch:
    """A batch folder's bytes and parsed manifest, before the signature is checked."""

    folder: Path
    manifest: dict[str, Any]
    requests_bytes: bytes

    @property
    def manifest_file(self) -> str:
        return str(self.folder / "manifest.json")

    @property
    def requests_file(self) -> str:
        return str(self.folder / "requests.csv")


def read_raw(folder: Path) -> RawBatch:
    mpath, rpath = folder / "manifest.json", folder / "requests.csv"
    if not folder.is_dir():
        raise InputError("not a batch folder", file=str(folder))
    for p in (mpath, rpath):
        if not p.is_file():
            raise InputError("missing from the batch folder", file=str(p))
    if mpath.stat().st_size > MAX_MANIFEST_BYTES:
        raise InputError(
            f"larger than the {MAX_MANIFEST_BYTES // 1024} KiB a manifest may hold", file=str(mpath)
        )
    manifest = load_manifest(mpath.read_bytes(), str(mpath))
    if rpath.stat().st_size > MAX_REQUESTS_BYTES:
        raise InputError("larger than the 2 GiB a batch may hold", file=str(rpath))
    return RawBatch(folder, manifest, rpath.read_bytes())


def sign_folder(folder: Path, key: Ed25519PrivateKey) -> dict[str, Any]:
    """Fill ``requests_sha256`` and ``signature`` in ``folder/manifest.json`` (replaced
    whole, never half-written); returns the signed manifest."""
    raw = read_raw(folder)
    signed = sign_manifest(raw.manifest, raw.requests_bytes, key)
    path = folder / "manifest.json"
    tmp = path.with_name("manifest.json.tmp")
    tmp.write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return signed


class _Refused(ValueError):
    """A JSON value the manifest may not hold (raised from inside the JSON parser)."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _Refused(f"a number longer than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_DIGITS + 8 else math.inf
    if not math.isfinite(value):
        raise _Refused("a number too large to hold")
    return value


def _constant(text: str) -> Any:
    raise _Refused("`NaN` or `Infinity`, which JSON does not allow")


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict | list):
            deepest = max(deepest, d + 1)
            stack.extend((x, d + 1) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def load_manifest(data: bytes, file: str) -> dict[str, Any]:
    """Parse a manifest's bytes: UTF-8 JSON, an object, numbers bounded, nesting shallow.

    Raises:
        InputError: naming the file (and the line where the JSON is malformed).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError("not UTF-8", file=file, row=data.count(b"\n", 0, e.start) + 1) from None
    try:
        manifest = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"not JSON ({e.msg})", file=file, row=e.lineno) from None
    except _Refused as e:
        raise InputError(f"holds {e}", file=file) from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_MANIFEST_DEPTH} levels", file=file) from None
    if not isinstance(manifest, dict):
        raise InputError("must be a JSON object", file=file)
    if _depth(manifest) > MAX_MANIFEST_DEPTH:
        raise InputError(f"nested deeper than {MAX_MANIFEST_DEPTH} levels", file=file)
    return manifest


def parse_manifest(raw: RawBatch) -> BatchInfo:
    m, f = raw.manifest, raw.manifest_file
    for k in MANIFEST_KEYS:
        if k not in m:
            raise InputError("missing key", file=f, column=k)
    for k in ("batch_id", "agency", "submitted_at", "requests_sha256", "signature"):
        if not isinstance(m[k], str) or (k in ("batch_id", "agency") and not m[k].strip()):
            raise InputError("must be a non-empty string", file=f, column=k)
    off = m["official"]
    if not isinstance(off, dict) or not all(isinstance(off.get(k), str) for k in ("name", "title")):
        raise InputError("must be an object with `name` and `title`", file=f, column="official")
    texts = {k: m[k] for k in ("batch_id", "agency", "submitted_at")}
    texts |= {f"official.{k}": off[k] for k in ("name", "title")}
    for k, v in texts.items():
        if len(v) > MAX_MANIFEST_TEXT or any(ord(c) < 32 or ord(c) == 127 for c in v):
            raise InputError(
                f"must be at most {MAX_MANIFEST_TEXT} printable characters", file=f, column=k
            )
    return BatchInfo(
        batch_id=m["batch_id"].strip(),
        agency=m["agency"].strip(),
        official=Official(off["name"].strip(), off["title"].strip()),
        submitted_at=m["submitted_at"],
        requests_sha256=m["requests_sha256"],
        signature=m["signature"],
    )


#: Bytes that are not UTF-8, as :func:`_text` keeps them (surrogate escapes).
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_BOM = b"\xef\xbb\xbf"


def _text(data: bytes) -> str:
    """The file as text; bytes that are not UTF-8 kept as surrogate escapes, so that the
    row and column holding them can be named (a UTF-8 byte order mark is dropped)."""
    return data.removeprefix(_BOM).decode("utf-8", errors="surrogateescape")


_LINE_END = re.compile("\r\n|\r|\n")


def text_lines(text: str) -> Iterator[str]:
    r"""The lines of ``text`` as ``io.StringIO(text, newline="")`` gives them (each ended by
    ``\n``, ``\r`` or ``\r\n``, kept), without the copy StringIO makes: four bytes a
    character, 2.3 GB for a batch of 1,280,000 requests.

    >>> list(text_lines("a,b\r\nc\rd\n\ne"))
    ['a,b\r\n', 'c\r', 'd\n', '\n', 'e']
    """
    start = 0
    for end in _LINE_END.finditer(text):
        yield text[start : end.end()]
        start = end.end()
    if start < len(text):
        yield text[start:]


def iter_requests(raw: RawBatch) -> Iterator[Request]:
    """Yield each request row; raise InputError at the first row the contract refuses.

    Errors name the file, the row and the column (by the contract's name and its place in
    the header) and never quote what a cell holds; a first row that is not the contract's
    header is refused as such.
    """
    file = raw.requests_file
    text = _text(raw.requests_bytes)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        if line == 1:  # UTF-16 text, or binary: no header the contract knows
            header_positions([], REQUEST_COLUMNS, file=file, readable=False)
        raise InputError("contains a NUL byte", file=file, row=line)
    # the reader takes cells far longer than a request may hold, so that a long cell is
    # refused naming its column; a cell past this limit is refused naming its row only
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(text_lines(text), strict=True)
    try:
        first = next(reader)
    except StopIteration:
        raise InputError("empty: no header", file=file, row=1) from None
    except csv.Error:
        raise InputError(
            "not the contract's header: the first row is not a CSV row of column names",
            file=file,
            row=1,
        ) from None
    unreadable = any(_NOT_UTF8.search(c) for c in first)
    index = header_positions(first, REQUEST_COLUMNS, file=file, readable=not unreadable)
    places = [i + 1 for i in index]
    pick = operator.itemgetter(*index)
    width = len(first)
    controls = _CONTROL.search(text) is not None  # else no cell can hold one: skip the search
    encoding = _NOT_UTF8.search(text) is not None
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise InputError(f"malformed CSV ({e})", file=file, row=reader.line_num) from None
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != width:
            raise InputError(
                f"has {len(values)} fields where the header has {width}", file=file, row=line
            )
        cells = list(map(str.strip, pick(values)))
        # each cell looked at in turn only when one may be refused (the file holds a
        # control character or a byte that is not UTF-8, or this row a cell too long)
        if encoding or controls or max(map(len, cells)) > MAX_FIELD_CHARS:
            _check_cells(cells, places, file, line, encoding=encoding, controls=controls)
        if not cells[0]:
            raise InputError(
                "empty request id", file=file, row=line, column="request_id", position=places[0]
            )
        if len(cells[0]) > 200:
            raise InputError(
                "request id longer than 200 characters",
                file=file,
                row=line,
                column="request_id",
                position=places[0],
            )
        # the contract's columns are its fields, in order (tested): built by position
        yield Request(*cells, row=line)  # type: ignore[arg-type, misc]


def _check_cells(
    cells: list[str], places: list[int], file: str, line: int, *, encoding: bool, controls: bool
) -> None:
    """Refuse the first cell of a row, in the contract's order, that is not UTF-8, too long,
    or holds a control character."""
    for col, at, v in zip(REQUEST_COLUMNS, places, cells, strict=True):
        if encoding and _NOT_UTF8.search(v):
            raise InputError("not UTF-8 text", file=file, row=line, column=col, position=at)
        if len(v) > MAX_FIELD_CHARS:
            raise InputError(
                f"longer than {MAX_FIELD_CHARS} characters",
                file=file,
                row=line,
                column=col,
                position=at,
            )
        if controls and _CONTROL.search(v):
            raise InputError(
                "contains control characters", file=file, row=line, column=col, position=at
            )


def read_requests(raw: RawBatch) -> list[Request]:
    """Every request of the batch (:func:`iter_requests`); the cyclic collector paused
    meanwhile: a million requests kept and none in a cycle (full collections walking them
    again were a third of the parse at full size)."""
    with collector.paused():
        return list(iter_requests(raw))
