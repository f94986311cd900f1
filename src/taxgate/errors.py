"""One root for every error taxgate raises on purpose.

::

    TaxgateError              anything taxgate refuses, with a message free of personal data
    ├── UsageError            the command was called wrongly (exit 2)
    ├── ConfigError           rulebook, statutes or fields configuration invalid
    ├── InputError            an input refused as a whole (exit 1); names file, row, column
    │   └── SignatureError    a batch fails R-SIGNATURE: unsigned, unknown key, or changed
    ├── StoreError            the store cannot do what was asked (no records, wrong state)
    │   ├── ConflictError     the same id with other content (HTTP 409)
    │   └── BudgetError       a release would overspend the year's privacy budget
    └── AuditError            the audit log, a checkpoint or an export does not verify
        └── ProofError        an inclusion or consistency proof fails (audit/proof.py:
                              RootMismatchError, ProofLengthError, BadIndexError,
                              BadSizeError, HashSizeError)

Messages are lowercase, without a trailing period, name inputs in backticks,
and never carry a taxpayer's or a requested person's data: request ids only.
"""

from __future__ import annotations


class TaxgateError(Exception):
    """Root of taxgate's errors."""

    exit_code = 1
    http_status = 400


class UsageError(TaxgateError):
    exit_code = 2


class ConfigError(TaxgateError):
    """Configuration problems, all collected before raising."""

    def __init__(self, problems: list[str] | str, source: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        head = f"invalid configuration `{source}`" if source else "invalid configuration"
        super().__init__(head + ": " + "; ".join(self.problems))


class InputError(TaxgateError):
    """An input refused as a whole; the message names file, row and column."""

    def __init__(
        self, message: str, *, file: str = "", row: int | None = None, column: str = ""
    ) -> None:
        self.file, self.row, self.column = file, row, column
        where = []
        if file:
            where.append(f"`{file}`")
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column `{column}`")
        super().__init__((", ".join(where) + ": " if where else "") + message)


class SignatureError(InputError):
    """R-SIGNATURE: the batch is refused whole."""

    http_status = 422


class StoreError(TaxgateError):
    http_status = 409


class ConflictError(StoreError):
    http_status = 409


class BudgetError(StoreError):
    """A differentially private release would overspend its year's privacy budget."""


class AuditError(TaxgateError):
    pass
