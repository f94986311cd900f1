"""Reading a batch folder: ``manifest.json`` and ``requests.csv``, every problem located.

A file that cannot be read as the contract says is refused whole with an error that
names the file, the row and the column; values are never quoted in errors.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taxgate.errors import InputError
from taxgate.intake.signing import sign_manifest
from taxgate.types import REQUEST_COLUMNS, BatchInfo, Official, Request

MAX_FIELD_CHARS = 4000
#: Control characters a field may not hold (tab, newline and carriage return are allowed).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_REQUESTS_BYTES = 2 * 1024**3
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
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8", file=str(mpath)) from None
    except json.JSONDecodeError as e:
        raise InputError(f"not JSON ({e.msg})", file=str(mpath), row=e.lineno) from None
    if not isinstance(manifest, dict):
        raise InputError("must be a JSON object", file=str(mpath))
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
    if len(m["batch_id"]) > 200 or any(ord(c) < 32 for c in m["batch_id"]):
        raise InputError("must be at most 200 printable characters", file=f, column="batch_id")
    return BatchInfo(
        batch_id=m["batch_id"].strip(),
        agency=m["agency"].strip(),
        official=Official(off["name"].strip(), off["title"].strip()),
        submitted_at=m["submitted_at"],
        requests_sha256=m["requests_sha256"],
        signature=m["signature"],
    )


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        end = data.find(b"\n", e.start)
        text = data[start : end if end >= 0 else len(data)].decode("utf-8", errors="replace")
        column = ""
        try:
            header = next(
                csv.reader(io.StringIO(data[: data.find(b"\n")].decode("utf-8", "replace")))
            )
            fields = next(csv.reader(io.StringIO(text)))
            bad = next(i for i, v in enumerate(fields) if "\ufffd" in v)
            column = header[bad] if bad < len(header) else ""
        except (StopIteration, csv.Error):
            pass
        raise InputError("not UTF-8 text", file=file, row=line, column=column) from None


def iter_requests(raw: RawBatch) -> Iterator[Request]:
    """Yield each request row; raise InputError at the first row the contract refuses."""
    file = raw.requests_file
    text = _decode(raw.requests_bytes, file)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError("contains a NUL byte", file=file, row=line)
    csv.field_size_limit(MAX_FIELD_CHARS * 4 + 16)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError("empty: no header", file=file, row=1) from None
    except csv.Error as e:
        raise InputError(f"malformed CSV ({e})", file=file, row=1) from None
    missing = [c for c in REQUEST_COLUMNS if c not in header]
    if missing:
        raise InputError("missing column", file=file, row=1, column=", ".join(missing))
    extra = [c for c in header if c not in REQUEST_COLUMNS]
    if extra:
        raise InputError("unexpected column", file=file, row=1, column=", ".join(extra))
    if len(set(header)) != len(header):
        raise InputError("repeated column", file=file, row=1)
    index = [header.index(c) for c in REQUEST_COLUMNS]
    width = len(header)
    controls = _CONTROL.search(text) is not None  # else no cell can hold one: skip the search
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
        cells = [values[i].strip() for i in index]
        for col, v in zip(REQUEST_COLUMNS, cells, strict=True):
            if len(v) > MAX_FIELD_CHARS:
                raise InputError(
                    f"longer than {MAX_FIELD_CHARS} characters", file=file, row=line, column=col
                )
            if controls and _CONTROL.search(v):
                raise InputError("contains control characters", file=file, row=line, column=col)
        if not cells[0]:
            raise InputError("empty request id", file=file, row=line, column="request_id")
        if len(cells[0]) > 200:
            raise InputError(
                "request id longer than 200 characters", file=file, row=line, column="request_id"
            )
        yield Request(**dict(zip(REQUEST_COLUMNS, cells, strict=True)), row=line)


def read_requests(raw: RawBatch) -> list[Request]:
    return list(iter_requests(raw))
