"""Storage backends by URL scheme: built-ins, in-process registrations and entry-point plugins.

:func:`multistore.connect` asks this registry for the backend of a URL's scheme (the part before
``://``; for ``postgresql+psycopg`` also the base ``postgresql``). Built-in schemes are
``memory``, ``sqlite`` and ``postgresql`` (with ``postgresql+psycopg``). A third-party package
adds one by declaring an entry point in the group ``multistore.storage``:

.. code-block:: toml

    [project.entry-points."multistore.storage"]
    dynamo = "multistore_dynamo:create_storage"

where ``create_storage(url: str, *, migrate: bool = True) -> Storage``. A plugin that fails to
import gives a :class:`RuntimeWarning`, not a crash; ``MULTISTORE_DISABLE_PLUGINS=1`` skips
discovery. In-process code can call :func:`register` instead.

Examples:
    >>> from multistore.adapters.memory import MemoryStorage
    >>> register("scratch", lambda url, *, migrate=True: MemoryStorage())
    >>> "scratch" in known_schemes()
    True
    >>> unregister("scratch")
"""

from __future__ import annotations

import os
import threading
import warnings
from importlib.metadata import entry_points
from typing import Protocol, cast

from multistore._validation import check_id
from multistore.errors import ValidationError
from multistore.ports.storage import Storage

__all__ = [
    "ENTRY_POINT_GROUP",
    "StorageFactory",
    "create_storage",
    "known_schemes",
    "register",
    "reset_plugins",
    "scheme_of",
    "unregister",
]

ENTRY_POINT_GROUP = "multistore.storage"
"""The entry-point group third-party storage backends register in."""


class StorageFactory(Protocol):
    """Builds a storage for a URL: ``factory(url, migrate=True) -> Storage``."""

    def __call__(self, url: str, *, migrate: bool = True) -> Storage:
        """Open the storage the URL names (creating its schema when ``migrate``)."""
        ...


def _memory(url: str, *, migrate: bool = True) -> Storage:
    from multistore.adapters.memory import MemoryStorage  # noqa: PLC0415 - loaded on demand

    return MemoryStorage()


def _sql(url: str, *, migrate: bool = True) -> Storage:
    # Imported lazily so that memory users never import SQLAlchemy.
    from multistore.adapters.sqlalchemy import (  # noqa: PLC0415 - keeps SQLAlchemy optional
        create_storage as create_sql_storage,
    )

    return cast("Storage", create_sql_storage(url, migrate=migrate))


_BUILTIN: dict[str, StorageFactory] = {
    "memory": _memory,
    "sqlite": _sql,
    "postgresql": _sql,
    "postgresql+psycopg": _sql,
}

_lock = threading.Lock()
_registered: dict[str, StorageFactory] = {}
_plugins: dict[str, StorageFactory] | None = None


def scheme_of(url: str) -> str:
    """Return the scheme of a storage URL (``"sqlite"`` for ``"sqlite:///x.db"``).

    Raises:
        ValidationError: ``storage.invalid_url`` when the URL has no ``scheme://``.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValidationError(
            f"storage URL {url!r} has no scheme; write it like 'memory://', "
            "'sqlite:///multistore.db' or 'postgresql+psycopg://user@host/db'",
            code="storage.invalid_url",
        )
    scheme = url.split("://", 1)[0].strip().lower()
    if not scheme:
        raise ValidationError(
            f"storage URL {url!r} has an empty scheme", code="storage.invalid_url"
        )
    return scheme


def register(scheme: str, factory: StorageFactory) -> None:
    """Make ``factory`` the backend for URLs starting with ``scheme://`` in this process.

    A registration wins over plugins and built-ins of the same scheme.

    Raises:
        ValidationError: ``validation.empty_id`` for an empty scheme; ``storage.invalid_factory``
            when ``factory`` is not callable.
    """
    scheme = check_id(scheme, "scheme").lower()
    if not callable(factory):
        raise ValidationError(
            f"the factory for {scheme!r} must be callable as factory(url, migrate=True)",
            code="storage.invalid_factory",
        )
    with _lock:
        _registered[scheme] = factory


def unregister(scheme: str) -> None:
    """Forget an in-process registration (unknown schemes are ignored)."""
    with _lock:
        _registered.pop(scheme.lower(), None)


def _discover() -> dict[str, StorageFactory]:
    global _plugins  # noqa: PLW0603 - discovery runs once per process and is cached here
    with _lock:
        if _plugins is not None:
            return _plugins
        found: dict[str, StorageFactory] = {}
        if os.environ.get("MULTISTORE_DISABLE_PLUGINS", "").strip() not in ("", "0"):
            _plugins = found
            return found
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                factory = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break connect()
                warnings.warn(
                    f"multistore storage plugin {ep.name!r} ({ep.value}) failed to load and is "
                    f"skipped: {exc!r}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            if not callable(factory):
                warnings.warn(
                    f"multistore storage plugin {ep.name!r} ({ep.value}) is not callable; skipped",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            found[ep.name.lower()] = factory
        _plugins = found
        return found


def reset_plugins() -> None:
    """Forget discovered plugins so the next lookup discovers them again (for tests)."""
    global _plugins  # noqa: PLW0603 - see _discover
    with _lock:
        _plugins = None


def known_schemes() -> list[str]:
    """Return every scheme a URL may use now (built-in, registered and plugin), sorted."""
    return sorted({*_BUILTIN, *_discover(), *_registered})


def _factory_for(scheme: str) -> StorageFactory | None:
    candidates = [scheme]
    if "+" in scheme:
        candidates.append(scheme.split("+", 1)[0])
    for name in candidates:
        with _lock:
            if name in _registered:
                return _registered[name]
        plugins = _discover()
        if name in plugins:
            return plugins[name]
        if name in _BUILTIN:
            return _BUILTIN[name]
    return None


def create_storage(url: str, *, migrate: bool = True) -> Storage:
    """Open the storage a URL names.

    Args:
        url: ``memory://``, ``sqlite:///path.db``, ``postgresql+psycopg://...`` or a plugin's.
        migrate: Whether SQL backends bring their schema up to date first.

    Raises:
        ValidationError: ``storage.unknown_url`` for a scheme nobody provides (the message lists
            the known ones), ``storage.invalid_url`` for a URL without a scheme.
    """
    scheme = scheme_of(url)
    factory = _factory_for(scheme)
    if factory is None:
        known = ", ".join(f"{s}://" for s in known_schemes())
        raise ValidationError(
            f"no storage backend for {scheme}://; use one of {known}, or install or register "
            "the backend that provides it",
            code="storage.unknown_url",
            details={"scheme": scheme, "known": known_schemes()},
        )
    return factory(url, migrate=migrate)
