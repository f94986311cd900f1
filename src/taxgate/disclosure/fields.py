"""The field catalogue: every records column, what it is under 26 U.S.C. 6103, and its source.

The authoring form is ``fields.yaml``::

    version: "fields-2026.1"
    fields:
      tin:  {category: identity, source: taxpayer, description: ...}
      ...
    derived:
      last_known_address: {category: identity, source: derived,
                           from: [address_line1, address_line2, city, state, zip]}

:func:`load_catalogue` compiles it into a :class:`Catalogue`, collecting every
problem before raising one :class:`~taxgate.errors.ConfigError`. A records
column missing from the catalogue is an error, never silently disclosable.

Where the records say where a value came from, the value's own source decides its
category: a column may name an optional *source column* (``dob: {..., source_column:
dob_source}``) whose words come from the catalogue's ``value_sources`` vocabulary (``ssa``,
``form_w7``, ...), each with its category. A row without a source keeps the column's
category; a word outside the vocabulary is refused when the records are loaded and, should
one reach a plan anyway, counts as taxpayer return information (the most protected).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import yaml

from taxgate.config import config_dir
from taxgate.errors import ConfigError
from taxgate.types import RECORD_COLUMNS

Category = Literal["identity", "taxpayer_return_info", "other_return_info"]
CATEGORIES: tuple[Category, ...] = ("identity", "taxpayer_return_info", "other_return_info")
COLUMN_SOURCES: tuple[str, ...] = ("taxpayer", "third_party", "agency")
DERIVED_SOURCE = "derived"
_COLUMN_KEYS = frozenset({"category", "source", "description", "disclosable"})
_RECORD_KEYS = _COLUMN_KEYS | {"source_column"}
#: A per-value source word, and a source column's name: lowercase ASCII, digits, underscores.
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: The category a per-value source that cannot be read counts as: the most protected.
MOST_PROTECTED: Category = "taxpayer_return_info"
#: The only items that are "taxpayer identity" (26 U.S.C. 6103(b)(6)): the name, the mailing
#: address and the taxpayer identifying number. Nothing else may be catalogued `identity`.
IDENTITY_ITEMS: frozenset[str] = frozenset(
    {
        "tin", "first_name", "middle_name", "last_name", "suffix", "address_line1",
        "address_line2", "city", "state", "zip",
    }
)  # fmt: skip
#: Categories from least to most protected: a derived value takes its most protected source's.
_PROTECTION: dict[str, int] = {"identity": 0, "other_return_info": 1, "taxpayer_return_info": 2}
_DERIVED_KEYS = _COLUMN_KEYS | {"from"}


def most_protected(categories: Sequence[Category]) -> Category:
    """The most protected of ``categories`` (identity < other < taxpayer return information).

    >>> most_protected(["identity", "taxpayer_return_info", "other_return_info"])
    'taxpayer_return_info'
    """
    return max(categories, key=_PROTECTION.__getitem__)


@dataclass(frozen=True)
class FieldSpec:
    """One disclosable field.

    Attributes:
        name: the field name a request uses in ``info_requested``.
        category: ``identity`` (not taxpayer return information, 6103(i)(2)(C)),
            ``taxpayer_return_info`` (never disclosed under (i)(2)) or
            ``other_return_info`` (from third parties or the agency itself).
        source: ``taxpayer``, ``third_party``, ``agency``, or ``derived``.
        derived_from: for a derived field, the records columns it is built from.
        description: what the field holds, for people.
        disclosable: false withholds the field from every request (D-NOT-DISCLOSABLE).
        source_column: the optional records column that says, row by row, where this
            column's value came from (a word of the catalogue's ``value_sources``); empty
            when the records cannot say.
    """

    name: str
    category: Category
    source: str
    derived_from: tuple[str, ...] = ()
    description: str = ""
    disclosable: bool = True
    source_column: str = ""

    @property
    def is_derived(self) -> bool:
        return bool(self.derived_from)

    @property
    def is_taxpayer_return_info(self) -> bool:
        return self.category == "taxpayer_return_info"


@dataclass(frozen=True)
class ValueSource:
    """One word of the per-value source vocabulary, and the category it gives a value.

    Attributes:
        word: the word as the records write it (``form_w7``).
        category: ``taxpayer_return_info`` or ``other_return_info`` (a source never makes
            a value taxpayer identity: that is what the value is, 6103(b)(6)).
        description: where such a value comes from, for people.
    """

    word: str
    category: Category
    description: str = ""


def source_word(value: object) -> str | None:
    """A per-value source cell as compared: ``None`` when the row gives none (no column,
    null, blank), else the cell without outer spaces, lowercased if it is ASCII.

    Only ASCII is lowercased, so a look-alike letter (the Kelvin sign, a long s) never folds
    into a word of the vocabulary.

        >>> source_word(" Form_W7 "), source_word(""), source_word(None)
        ('form_w7', None, None)
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text.lower() if text.isascii() else text


@dataclass(frozen=True)
class Catalogue:
    """The compiled, validated field catalogue.

    Attributes:
        version: the catalogue's version string (decisions may cite it).
        fields: every field by name, records columns and derived fields alike.
        value_sources: the per-value source vocabulary, word -> :class:`ValueSource`.
    """

    version: str
    fields: Mapping[str, FieldSpec]
    value_sources: Mapping[str, ValueSource] = field(default_factory=lambda: MappingProxyType({}))

    def source_columns(self) -> dict[str, frozenset[str]]:
        """The optional records columns that say where a value came from, each with the
        words it may hold (what the records loader checks)."""
        words = frozenset(self.value_sources)
        return {s.source_column: words for s in self.fields.values() if s.source_column}

    def value_category(self, spec: FieldSpec, row: Mapping[str, object]) -> Category:
        """The category of ``spec``'s value in ``row``: the value's own source decides when
        the row names one, else the catalogue's category.

        A derived field takes the most protected category of its own and of the values it
        is built from. A source word outside the vocabulary counts as
        :data:`MOST_PROTECTED`.

            >>> cat = load_catalogue()
            >>> dob = cat.fields["dob"]
            >>> cat.value_category(dob, {"dob_source": "form_w7"})
            'taxpayer_return_info'
            >>> cat.value_category(dob, {"dob_source": "ssa"}), cat.value_category(dob, {})
            ('other_return_info', 'other_return_info')
        """
        if spec.is_derived:
            parts = [spec.category]
            for column in spec.derived_from:
                part = self.fields.get(column)
                parts.append(self.value_category(part, row) if part else MOST_PROTECTED)
            return most_protected(parts)
        if not spec.source_column:
            return spec.category
        word = source_word(row.get(spec.source_column))
        if word is None:
            return spec.category
        known = self.value_sources.get(word)
        return known.category if known is not None else MOST_PROTECTED

    def names(self) -> frozenset[str]:
        """Every field a request may name, derived ones (``last_known_address``) included."""
        return frozenset(self.fields)

    def get(self, name: str) -> FieldSpec | None:
        return self.fields.get(name)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that records duplicate mapping keys instead of silently keeping the last."""

    duplicates: list[str]


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            loader.duplicates.append(f"line {key_node.start_mark.line + 1}: duplicate key `{key}`")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read_yaml(path: Path) -> tuple[Any, list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", source=str(path)) from None
    loader = _UniqueKeyLoader(text)
    loader.duplicates = []
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(f"{where}not valid YAML", source=str(path)) from None
    finally:
        loader.dispose()
    return document, loader.duplicates


def _check_entry(
    section: str, name: Any, entry: Any, allowed: frozenset[str], problems: list[str]
) -> tuple[Category | None, str | None, str]:
    """Validate the keys, category and source shared by columns and derived fields."""
    where = f"{section} `{name}`"
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{section}: field name `{name}` is not a non-empty string")
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: expected a mapping with `category` and `source`")
        return None, None, ""
    for key in sorted(set(map(str, entry)) - allowed):
        problems.append(f"{where}: unknown key `{key}`")
    category = entry.get("category")
    if category not in CATEGORIES:
        problems.append(
            f"{where}: unknown category `{category}` (expected one of {', '.join(CATEGORIES)})"
        )
        category = None
    source = entry.get("source")
    if not isinstance(source, str) or not source:
        problems.append(f"{where}: missing `source`")
        source = None
    description = entry.get("description", "")
    return cast("Category | None", category), source, str(description or "")


def compile_catalogue(
    document: Any, record_columns: Sequence[str] = RECORD_COLUMNS, *, source: str = ""
) -> Catalogue:
    """Compile the authoring form (already parsed YAML) into a :class:`Catalogue`.

    Args:
        document: the parsed ``fields.yaml``.
        record_columns: the taxpayer records' columns; each must be catalogued.
        source: the file name, for error messages.

    Raises:
        ConfigError: with every problem found, not just the first.
    """
    problems: list[str] = []
    if not isinstance(document, Mapping):
        raise ConfigError("expected a mapping with `version` and `fields`", source=source)
    for key in sorted(set(map(str, document)) - {"version", "fields", "derived", "value_sources"}):
        problems.append(f"unknown top-level key `{key}`")
    version = document.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append("missing `version` (a non-empty string)")
        version = ""
    columns = document.get("fields")
    if not isinstance(columns, Mapping) or not columns:
        problems.append("missing `fields` (a mapping of records columns)")
        columns = {}
    derived = document.get("derived") or {}
    if not isinstance(derived, Mapping):
        problems.append("`derived` must be a mapping")
        derived = {}

    vocabulary = _compile_value_sources(document.get("value_sources"), problems)
    specs: dict[str, FieldSpec] = {}
    source_columns: dict[str, str] = {}
    for name, entry in columns.items():
        category, src, description = _check_entry("field", name, entry, _RECORD_KEYS, problems)
        if src is not None and src not in COLUMN_SOURCES:
            problems.append(
                f"field `{name}`: unknown source `{src}` (expected one of "
                f"{', '.join(COLUMN_SOURCES)})"
            )
        if category == "other_return_info" and src == "taxpayer":
            problems.append(
                f"field `{name}`: supplied by the taxpayer, so it is taxpayer return "
                "information, not `other_return_info`"
            )
        if name not in record_columns:
            problems.append(f"field `{name}` is not a taxpayer records column")
        if category == "identity" and name not in IDENTITY_ITEMS:
            problems.append(
                f"field `{name}`: only the name, mailing address and TIN are taxpayer identity "
                "(26 U.S.C. 6103(b)(6)); anything else is return information"
            )
        disclosable = entry.get("disclosable", True) if isinstance(entry, Mapping) else True
        if not isinstance(disclosable, bool):
            problems.append(f"field `{name}`: `disclosable` must be true or false")
            disclosable = False
        source_column = _check_source_column(
            name, entry, category, record_columns, source_columns, vocabulary, problems
        )
        if category is not None and src is not None and isinstance(name, str):
            specs[name] = FieldSpec(
                name, category, src, (), description, disclosable, source_column
            )
    for column in record_columns:
        if column not in columns:
            problems.append(f"records column `{column}` is missing from the catalogue")

    for name, entry in derived.items():
        category, src, description = _check_entry("derived", name, entry, _DERIVED_KEYS, problems)
        if src is not None and src != DERIVED_SOURCE:
            problems.append(f"derived `{name}`: source must be `{DERIVED_SOURCE}`, not `{src}`")
        if name in columns:
            problems.append(f"derived `{name}`: has the name of a records column")
        built_from = entry.get("from") if isinstance(entry, Mapping) else None
        if (
            not isinstance(built_from, list)
            or not built_from
            or not all(isinstance(c, str) for c in built_from)
        ):
            problems.append(f"derived `{name}`: `from` must list the columns it is built from")
            built_from = []
        unknown = [str(c) for c in built_from if c not in specs and c not in columns]
        if unknown:
            problems.append(f"derived `{name}`: built from unknown columns `{', '.join(unknown)}`")
        tri = [c for c in built_from if c in specs and specs[c].is_taxpayer_return_info]
        if tri and category is not None and category != "taxpayer_return_info":
            problems.append(
                f"derived `{name}`: built from taxpayer return information "
                f"`{', '.join(tri)}` but categorised `{category}`"
            )
        elif category is not None:
            sources = [specs[c].category for c in built_from if c in specs]
            most = max(sources, key=_PROTECTION.__getitem__, default=category)
            if _PROTECTION[most] > _PROTECTION[category]:
                problems.append(
                    f"derived `{name}`: takes the category of its most protected source "
                    f"(`{most}`), not `{category}`"
                )
        if category is not None and src is not None and isinstance(name, str) and built_from:
            specs[name] = FieldSpec(
                name,
                category,
                src,
                tuple(str(c) for c in built_from),
                description,
                all(specs[c].disclosable for c in built_from if c in specs),
            )

    for column in source_columns:
        if column in derived:
            problems.append(f"source column `{column}` has the name of a derived field")
    if problems:
        raise ConfigError(problems, source=source)
    return Catalogue(
        version=str(version),
        fields=MappingProxyType(specs),
        value_sources=MappingProxyType(vocabulary),
    )


def _compile_value_sources(document: Any, problems: list[str]) -> dict[str, ValueSource]:
    """The per-value source vocabulary: ``word: {category, description}``."""
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        problems.append("`value_sources` must be a mapping of source words")
        return {}
    vocabulary: dict[str, ValueSource] = {}
    for word, entry in document.items():
        where = f"value source `{word}`"
        if not isinstance(word, str) or not _WORD.fullmatch(word):
            problems.append(
                f"{where}: a source word is lowercase ASCII letters, digits and underscores"
            )
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: expected a mapping with `category` and `description`")
            continue
        for key in sorted(set(map(str, entry)) - {"category", "description"}):
            problems.append(f"{where}: unknown key `{key}`")
        category = entry.get("category")
        if category not in ("taxpayer_return_info", "other_return_info"):
            problems.append(
                f"{where}: category must be taxpayer_return_info or other_return_info (a "
                "source never makes a value taxpayer identity, 26 U.S.C. 6103(b)(6))"
            )
            continue
        description = entry.get("description")
        if not isinstance(description, str) or not description.strip():
            problems.append(f"{where}: missing `description` (where such a value comes from)")
            description = ""
        vocabulary[word] = ValueSource(word, cast("Category", category), description)
    return vocabulary


def _check_source_column(
    name: Any,
    entry: Any,
    category: Category | None,
    record_columns: Sequence[str],
    taken: dict[str, str],
    vocabulary: Mapping[str, ValueSource],
    problems: list[str],
) -> str:
    """A column's optional ``source_column``: its name, or "" (problems collected)."""
    column = entry.get("source_column") if isinstance(entry, Mapping) else None
    if column is None:
        return ""
    where = f"field `{name}`"
    if not isinstance(column, str) or not _WORD.fullmatch(column):
        problems.append(
            f"{where}: `source_column` is lowercase ASCII letters, digits and underscores"
        )
        return ""
    if category == "identity":
        problems.append(
            f"{where}: taxpayer identity is identity whatever its source (26 U.S.C. "
            "6103(b)(6)); it takes no `source_column`"
        )
    if column in record_columns:
        problems.append(f"{where}: source column `{column}` is a taxpayer records column")
    if column in taken:
        problems.append(f"{where}: source column `{column}` is also `{taken[column]}`'s")
    if not vocabulary:
        problems.append(f"{where}: a `source_column` needs the `value_sources` vocabulary")
    taken[column] = str(name)
    return column


def load_catalogue(
    path: Path | None = None, record_columns: Sequence[str] = RECORD_COLUMNS
) -> Catalogue:
    """Read and validate ``fields.yaml``.

    Args:
        path: the catalogue file; default ``fields.yaml`` in the shipped configuration.
        record_columns: the taxpayer records' columns; each must be catalogued.

    Returns:
        The compiled catalogue.

    Raises:
        ConfigError: collecting every problem (unreadable file, duplicate keys, a records
            column missing, an unknown category or source, a derived field built from
            unknown columns or from taxpayer return information, ...).

    Example:
        >>> load_catalogue().fields["adjusted_gross_income"].category
        'taxpayer_return_info'
    """
    path = path if path is not None else config_dir() / "fields.yaml"
    document, duplicates = _read_yaml(path)
    try:
        catalogue = compile_catalogue(document, record_columns, source=str(path))
    except ConfigError as exc:
        raise ConfigError(duplicates + exc.problems, source=str(path)) from None
    if duplicates:
        raise ConfigError(duplicates, source=str(path))
    return catalogue
