"""SQL storage for multistore: SQLite by default, PostgreSQL at scale.

Examples:
    >>> from multistore.adapters.sqlalchemy import create_storage
    >>> storage = create_storage("sqlite://")   # a private temporary database
    >>> with storage.unit_of_work() as uow:
    ...     uow.stock.get("SH-001", "TEA-1").on_hand
    0
    >>> storage.close()

See the "Storage backends" page of the docs for WAL, ``BEGIN IMMEDIATE``, retries, PostgreSQL
set-up, migrations and the concurrency guarantees.
"""

from multistore.adapters.sqlalchemy import promotions as promotions  # registers promotion tables
from multistore.adapters.sqlalchemy.batching import HoldBatcher
from multistore.adapters.sqlalchemy.cipher import KEY_ENV, AesGcmCipher, Cipher, new_key
from multistore.adapters.sqlalchemy.errors import is_transient, translate
from multistore.adapters.sqlalchemy.migrate import (
    current_revision,
    head_revision,
    migrate,
    upgrade,
)
from multistore.adapters.sqlalchemy.repositories import hold_now
from multistore.adapters.sqlalchemy.storage import (
    RetryPolicy,
    SqlStorage,
    SqlUnitOfWork,
    create_storage,
)

__all__ = [
    "KEY_ENV",
    "AesGcmCipher",
    "Cipher",
    "HoldBatcher",
    "RetryPolicy",
    "SqlStorage",
    "SqlUnitOfWork",
    "create_storage",
    "current_revision",
    "head_revision",
    "hold_now",
    "is_transient",
    "migrate",
    "new_key",
    "translate",
    "upgrade",
]
