"""multistore: a Python SDK for multi-store retail.

Examples:
    >>> import multistore
    >>> with multistore.connect("memory://") as ms:
    ...     ms.stores.list()
    []
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from multistore.errors import MultistoreError

__version__ = "0.1.0"

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "Multistore",
    "MultistoreError",
    "Scope",
    "__version__",
    "connect",
]

if TYPE_CHECKING:
    from multistore.app import Multistore, connect
    from multistore.ports.security import SYSTEM_ACTOR, Actor, Scope

_LAZY = {
    "connect": "multistore.app",
    "Multistore": "multistore.app",
    "SYSTEM_ACTOR": "multistore.ports.security",
    "Actor": "multistore.ports.security",
    "Scope": "multistore.ports.security",
}


def __getattr__(name: str) -> Any:
    """Import the facade on first use, so ``import multistore.money`` stays light."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'multistore' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
