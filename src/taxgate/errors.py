"""One root for every error taxgate raises on purpose, and the one place that maps them.

::

    TaxgateError              anything taxgate refuses, with a message free of personal data
    ├── UsageError            the command was called wrongly              exit 2   HTTP 400
    ├── ConfigError           rulebook, statutes or fields invalid         exit 1   HTTP 400
    ├── InputError            an input refused as a whole; file, row,      exit 1   HTTP 422
    │   │                     column and reason as fields
    │   └── SignatureError    a batch fails R-SIGNATURE                    exit 1   HTTP 422
    ├── NotFoundError         no such batch, request, user, entry          exit 1   HTTP 404
    ├── ForbiddenError        this user or role may not do this            exit 1   HTTP 403
    ├── UnauthenticatedError  no token, or one that is not valid           exit 1   HTTP 401
    ├── TooLargeError         an upload over its size limit                exit 1   HTTP 413
    ├── RateLimitedError      too many attempts; ``retry_after`` seconds   exit 1   HTTP 429
    ├── UnavailableError      the store does not answer                    exit 1   HTTP 503
    ├── StoreError            the store cannot do what was asked           exit 1   HTTP 409
    │   ├── ConflictError     the same id with other content, wrong state  exit 1   HTTP 409
    │   └── BudgetError       a release would overspend the privacy budget exit 1   HTTP 409
    └── AuditError            the log, a checkpoint or an export does not  exit 1   HTTP 400
        └── ProofError        verify; a proof fails (audit/proof.py)

Every error carries ``reason``: the message without where it happened (an input
error's message is "`file`, row R, column `c`: reason"), so nobody parses messages.
:func:`exit_code` and :func:`http_status` are the only mapping to exit codes and HTTP
statuses; the command line and the service both use them.

Messages are lowercase, without a trailing period, name inputs in backticks,
and never carry a taxpayer's or a requested person's data: request ids only.

    >>> e = InputError("not a number", file="requests.csv", row=3, column="zip")
    >>> str(e), e.reason, exit_code(e), http_status(e)
    ('`requests.csv`, row 3, column `zip`: not a number', 'not a number', 1, 422)
    >>> http_status(ConflictError("batch `B` was already received")), exit_code(UsageError("x"))
    (409, 2)
    >>> [http_status(e) for e in (UnauthenticatedError("x"), RateLimitedError("x", retry_after=9))]
    [401, 429]
"""

from __future__ import annotations


class TaxgateError(Exception):
    """Root of taxgate's errors; ``reason`` is the message without its location."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


class UsageError(TaxgateError):
    pass


class ConfigError(TaxgateError):
    """Configuration problems, all collected before raising."""

    def __init__(self, problems: list[str] | str, source: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        head = f"invalid configuration `{source}`" if source else "invalid configuration"
        super().__init__(head + ": " + "; ".join(self.problems), reason="; ".join(self.problems))


class InputError(TaxgateError):
    """An input refused as a whole; names file, row and column (also as fields).

    ``column`` is a name the contract defines (never a name read from the input);
    ``position`` is the column's place in the file's header, 1 for the first:

    >>> str(InputError("not UTF-8 text", file="requests.csv", row=4, column="city", position=11))
    '`requests.csv`, row 4, column 11 (`city`): not UTF-8 text'
    """

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        row: int | None = None,
        column: str = "",
        position: int | None = None,
    ) -> None:
        self.file, self.row, self.column, self.position = file, row, column, position
        where = []
        if file:
            where.append(f"`{file}`")
        if row is not None:
            where.append(f"row {row}")
        if position is not None:  # a column by its place in the header (1 is the first)
            where.append(f"column {position}" + (f" (`{column}`)" if column else ""))
        elif column:
            where.append(f"column `{column}`")
        super().__init__((", ".join(where) + ": " if where else "") + message, reason=message)


class SignatureError(InputError):
    """R-SIGNATURE: the batch is refused whole."""


class NotFoundError(TaxgateError):
    """What was asked for does not exist (or may not be seen by the asker)."""


class ForbiddenError(TaxgateError):
    """The asker is known but may not do this."""


class UnauthenticatedError(TaxgateError):
    """The caller gave no token, or one that is not valid (the service asks for a bearer
    token)."""


class TooLargeError(TaxgateError):
    """An upload over its size limit."""


class RateLimitedError(TaxgateError):
    """Too many attempts; the caller may retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class UnavailableError(TaxgateError):
    """The store (or another part taxgate needs) does not answer."""


class StoreError(TaxgateError):
    pass


class ConflictError(StoreError):
    """The same id with other content, or an object in the wrong state for the action."""


class BudgetError(StoreError):
    """A differentially private release would overspend its year's privacy budget."""


class AuditError(TaxgateError):
    """The log, a checkpoint or an export does not verify, or a stored row no longer agrees
    with what the log committed to (then nothing is answered from it)."""


# The one mapping, most specific class first: (class, exit code, HTTP status).
_MAPPING: tuple[tuple[type[TaxgateError], int, int], ...] = (
    (UsageError, 2, 400),
    (ConfigError, 1, 400),
    (InputError, 1, 422),
    (NotFoundError, 1, 404),
    (ForbiddenError, 1, 403),
    (UnauthenticatedError, 1, 401),
    (TooLargeError, 1, 413),
    (RateLimitedError, 1, 429),
    (UnavailableError, 1, 503),
    (StoreError, 1, 409),
)


def exit_code(e: TaxgateError) -> int:
    """The command line's exit status for an error."""
    return next((code for cls, code, _ in _MAPPING if isinstance(e, cls)), 1)


def http_status(e: TaxgateError) -> int:
    """The service's HTTP status for an error."""
    return next((status for cls, _, status in _MAPPING if isinstance(e, cls)), 400)
