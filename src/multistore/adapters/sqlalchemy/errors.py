"""The one place where SQLAlchemy and driver exceptions become multistore errors.

* Busy / locked (SQLite), deadlock ``40P01``, serialization failure ``40001``, lock timeout
  ``55P03`` and lost connections become :class:`~multistore.errors.TransientStorageError`
  (retryable: :meth:`SqlStorage.run_in_transaction` retries them a bounded number of times).
* A unique violation becomes :class:`~multistore.errors.ConflictError` (``storage.duplicate``);
  other constraint violations become :class:`~multistore.errors.IntegrityStorageError`.
* A number too large for its 64-bit column (``OverflowError`` from the SQLite driver, SQLSTATE
  ``22003`` from PostgreSQL) becomes :class:`~multistore.errors.ValidationError`
  (``validation.invalid``), as the models and the memory storage report it.
* Anything else from the database becomes :class:`~multistore.errors.StorageError`.
* A connection lost during ``COMMIT`` becomes ``storage.commit_unknown`` (:func:`commit_unknown`,
  not retryable): the server may have committed, so repeating the work could apply it twice.

Repositories handle the conflicts they expect (a duplicate store id, a reused reservation key)
themselves with specific codes; this module is the safety net for everything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from multistore.errors import (
    ConflictError,
    IntegrityStorageError,
    StorageError,
    TransientStorageError,
    ValidationError,
)

__all__ = [
    "NUMERIC_OUT_OF_RANGE",
    "TRANSIENT_SQLSTATES",
    "commit_unknown",
    "is_transient",
    "retries_exhausted",
    "sqlstate",
    "translate",
    "translating",
]

TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "57P01",  # admin_shutdown
        "08000",  # connection_exception
        "08003",  # connection_does_not_exist
        "08006",  # connection_failure
    }
)
"""PostgreSQL SQLSTATE codes after which repeating the whole transaction may succeed."""

NUMERIC_OUT_OF_RANGE = "22003"
"""PostgreSQL SQLSTATE of a number beyond its column's range (``bigint out of range``)."""

_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "busy", "locked")


def sqlstate(exc: BaseException) -> str | None:
    """Return the PostgreSQL SQLSTATE behind ``exc`` (``None`` for other drivers)."""
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def is_transient(exc: BaseException) -> bool:
    """Whether repeating the whole transaction that raised ``exc`` may succeed."""
    if isinstance(exc, TransientStorageError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = sqlstate(exc)
    if state is not None:
        return state in TRANSIENT_SQLSTATES
    if isinstance(exc, sa_exc.OperationalError):
        text = str(exc.orig).lower()
        return any(marker in text for marker in _SQLITE_TRANSIENT)
    return False


def translate(
    exc: sa_exc.SQLAlchemyError | OverflowError, *, action: str = ""
) -> StorageError | ConflictError | ValidationError:
    """Return the multistore error for a SQLAlchemy/driver exception (the caller raises it).

    Args:
        exc: The exception raised by SQLAlchemy or the driver (an ``OverflowError`` is what
            the SQLite driver raises for an int beyond 64 bits).
        action: What was being done, for the message (``"reserving stock"``).
    """
    doing = f" while {action}" if action else ""
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
    details = {"sqlstate": sqlstate(exc), "driver_message": detail}
    if isinstance(exc, OverflowError) or sqlstate(exc) == NUMERIC_OUT_OF_RANGE:
        return ValidationError(
            f"a number is too large for the database{doing} ({detail}); quantities, counts and "
            "amounts in minor units must stay within 2**63 - 1",
            code="validation.invalid",
            details=details,
        )
    if is_transient(exc):
        return TransientStorageError(
            f"the database was busy or hit a deadlock{doing} ({detail}); the transaction was "
            "rolled back and may be retried as a whole",
            code="storage.transient",
            details=details,
        )
    if isinstance(exc, sa_exc.IntegrityError):
        return _integrity(exc, doing, details)
    return StorageError(
        f"the database failed{doing} ({detail or type(exc).__name__})",
        code="storage.error",
        details=details,
    )


def _integrity(
    exc: sa_exc.IntegrityError, doing: str, details: dict[str, str | None]
) -> StorageError | ConflictError:
    """The error for a violated constraint: a duplicate, a foreign key, a check or another."""
    state = details["sqlstate"]
    detail = details["driver_message"] or ""
    text = detail.lower()
    if state == "23505" or "unique constraint" in text:
        return ConflictError(
            f"a record with the same key already exists{doing} ({detail}); use another id",
            code="storage.duplicate",
            details=details,
        )
    if state == "23503" or "foreign key" in text:
        return IntegrityStorageError(
            f"a referenced record does not exist{doing} ({detail}); create it first",
            code="storage.foreign_key",
            details=details,
        )
    if state == "23514" or "check constraint" in text:
        return IntegrityStorageError(
            f"a value broke a database rule{doing} ({detail}); check quantities and amounts",
            code="storage.check_violation",
            details=details,
        )
    return IntegrityStorageError(
        f"a database constraint was violated{doing} ({detail})",
        code="storage.integrity",
        details=details,
    )


def commit_unknown(exc: BaseException) -> StorageError:
    """Return the error for a connection lost while its ``COMMIT`` was on the way.

    The server may have committed before the reply was lost, so the transaction must not be
    repeated blindly: the error is a :class:`~multistore.errors.StorageError` with code
    ``storage.commit_unknown``, not retryable (the caller raises it).

    Args:
        exc: The driver or SQLAlchemy error raised by the commit.
    """
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return StorageError(
        "the connection was lost while committing, so the commit's outcome is unknown "
        f"({detail[0] if detail else type(exc).__name__}); check whether the change was "
        "written before retrying it",
        code="storage.commit_unknown",
        details={"sqlstate": sqlstate(exc), "driver_message": detail[0] if detail else ""},
    )


def retries_exhausted(attempts: int, *, nothing: str) -> TransientStorageError:
    """Return the error for a transaction still busy or deadlocked after its last attempt.

    Args:
        attempts: How many attempts were made (the retry policy's limit).
        nothing: What was not done, for the message: ``"committed"``, ``"held"``.
    """
    return TransientStorageError(
        f"the database stayed busy or deadlocked through {attempts} attempts; "
        f"nothing was {nothing}, retry the call later",
        code="storage.retries_exhausted",
        details={"attempts": attempts},
    )


@contextmanager
def translating(action: str = "") -> Iterator[None]:
    """Translate any SQLAlchemy error raised inside the block (``raise ... from exc``)."""
    try:
        yield
    except (sa_exc.SQLAlchemyError, OverflowError) as exc:
        raise translate(exc, action=action) from exc
