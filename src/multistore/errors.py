"""The error hierarchy of multistore.

Every error raised on purpose by multistore derives from :class:`MultistoreError`. Each carries a
stable dotted ``code`` (``stock.insufficient``, ``money.float_rejected``) that callers can match
on, and a message that says what to change. Families group the codes by what the caller should do:

* :class:`ValidationError` -- the input is wrong; fix it and call again.
* :class:`NotFoundError` -- an id does not exist.
* :class:`ConflictError` -- the request contradicts the current state (duplicates, wrong status).
* :class:`InsufficientStockError` -- a conflict about stock: less available than asked for.
* :class:`PermissionDeniedError` -- the actor may not do this here.
* :class:`StorageError` -- the storage failed: :class:`TransientStorageError` is retryable,
  :class:`IntegrityStorageError` is not.
* :class:`AdapterError` -- an external system (payment, carrier, ERP, channel) failed.

Examples:
    >>> from multistore.errors import NotFoundError
    >>> err = NotFoundError("store 'S9' does not exist; create it first", code="store.not_found")
    >>> err.code
    'store.not_found'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AdapterError",
    "ConflictError",
    "CurrencyMismatchError",
    "FloatMoneyError",
    "InsufficientStockError",
    "IntegrityStorageError",
    "MultistoreError",
    "NotFoundError",
    "PermissionDeniedError",
    "StorageError",
    "TransientStorageError",
    "ValidationError",
]


class MultistoreError(Exception):
    """Root of every error multistore raises on purpose.

    Args:
        message: What went wrong and what the caller should change.
        code: A stable dotted code; defaults to the class's ``default_code``.
        details: Machine-readable context (field names, ids, amounts).

    Attributes:
        code: Stable dotted error code, safe to match on.
        message: Human-readable explanation that says what to fix.
        details: Extra context as a read-only mapping.
        retryable: Whether the same call may succeed if simply repeated.
    """

    default_code: ClassVar[str] = "multistore.error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: Mapping[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ValidationError(MultistoreError, ValueError):
    """The input is invalid; nothing was written.

    ``details["errors"]``, when present, lists every invalid field at once as
    ``{"field": ..., "problem": ...}`` dictionaries.
    """

    default_code = "validation.invalid"


class FloatMoneyError(ValidationError, TypeError):
    """A float was given where money or a money weight was expected.

    Floats cannot represent most decimal amounts exactly (``0.1 + 0.2 != 0.3``); pass a ``str``,
    ``int`` or ``Decimal`` instead.
    """

    default_code = "money.float_rejected"


class CurrencyMismatchError(ValidationError):
    """Amounts in different currencies were combined."""

    default_code = "money.currency_mismatch"


class NotFoundError(MultistoreError, LookupError):
    """A referenced entity (store, SKU, order, reservation...) does not exist."""

    default_code = "not_found"


class ConflictError(MultistoreError):
    """The request contradicts the current state (a duplicate, a wrong status, a stale version)."""

    default_code = "conflict"


class InsufficientStockError(ConflictError):
    """Less stock is available than requested; nothing was reserved."""

    default_code = "stock.insufficient"


class PermissionDeniedError(MultistoreError, PermissionError):
    """The actor's roles do not grant this action in this scope; the denial was audited."""

    default_code = "permission.denied"


class StorageError(MultistoreError):
    """The storage backend failed."""

    default_code = "storage.error"


class TransientStorageError(StorageError):
    """A transient storage failure that outlasted the bounded retries.

    Busy databases, lock timeouts, deadlocks and serialisation failures end here; the whole call
    may be retried safely.
    """

    default_code = "storage.transient"
    retryable = True


class IntegrityStorageError(StorageError):
    """A database constraint was violated; retrying the same call will fail again."""

    default_code = "storage.integrity"


class AdapterError(MultistoreError):
    """An external system (payment gateway, carrier, ERP, sales channel) failed or refused."""

    default_code = "adapter.error"
