from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import multistore
from multistore.adapters import registry
from multistore.adapters.memory import MemoryStorage
from multistore.app import Multistore, connect
from multistore.errors import ValidationError
from multistore.ports.security import SYSTEM_ACTOR
from multistore.ports.storage import Storage
from multistore.security import AllowSystemAuthorizer
from multistore.testing.builders import sample_store


def test_package_exports() -> None:
    assert "0.1.0" == multistore.__version__
    assert multistore.connect is connect
    assert multistore.Multistore is Multistore
    assert "system" == multistore.SYSTEM_ACTOR.id
    with pytest.raises(AttributeError):
        _ = multistore.nothing_here  # type: ignore[attr-defined]


def test_memory_connect_and_context_manager() -> None:
    with connect("memory://") as ms:
        assert isinstance(ms.storage, MemoryStorage)
        ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("S1"))
        assert ["S1"] == [s.id for s in ms.stores.list()]
        assert ms.audit.verify()
    ms.close()  # idempotent


def test_memory_users_never_import_sqlalchemy() -> None:
    code = (
        "import sys, multistore; ms = multistore.connect('memory://'); ms.stores.list(); "
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_default_url_is_a_sqlite_file_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MULTISTORE_URL", raising=False)
    with connect() as ms:
        ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("S1"))
    assert (tmp_path / "multistore.db").exists()
    with connect() as ms:
        assert ["S1"] == [s.id for s in ms.stores.list()]


def test_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTISTORE_URL", "memory://")
    with connect() as ms:
        assert isinstance(ms.storage, MemoryStorage)


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError) as info:
        connect("mongodb://localhost/x")
    assert "storage.unknown_url" == info.value.code
    assert "memory://" in info.value.message
    assert "sqlite://" in info.value.message
    with pytest.raises(ValidationError) as bad:
        connect("multistore.db")
    assert "storage.invalid_url" == bad.value.code


def test_injected_ports_are_used() -> None:
    with connect("memory://", authorizer=AllowSystemAuthorizer()) as ms:
        ms.stores.add(actor=SYSTEM_ACTOR, store=sample_store("S1"))
        from multistore.ports.security import Actor

        with pytest.raises(multistore.errors.PermissionDeniedError):
            ms.stores.add(actor=Actor.with_role("a", "hq_admin"), store=sample_store("S2"))


class _EntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name = name
        self.value = f"fake:{name}"
        self._target = target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch) -> list[_EntryPoint]:
    plugins: list[_EntryPoint] = []
    monkeypatch.setattr(registry, "entry_points", lambda group: list(plugins))
    monkeypatch.delenv("MULTISTORE_DISABLE_PLUGINS", raising=False)
    registry.reset_plugins()
    yield plugins
    registry.reset_plugins()


def _factory(url: str, *, migrate: bool = True) -> Storage:
    return MemoryStorage()


def test_plugins_are_discovered_and_broken_ones_warn(fake_plugins: list[_EntryPoint]) -> None:
    fake_plugins += [
        _EntryPoint("dynamo", _factory),
        _EntryPoint("broken", ImportError("no module named 'boto3'")),
    ]
    with pytest.warns(RuntimeWarning, match="broken"):
        schemes = registry.known_schemes()
    assert "dynamo" in schemes
    assert "broken" not in schemes
    with connect("dynamo://table") as ms:
        assert isinstance(ms.storage, MemoryStorage)


def test_plugins_can_be_disabled(
    fake_plugins: list[_EntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_plugins.append(_EntryPoint("dynamo", _factory))
    monkeypatch.setenv("MULTISTORE_DISABLE_PLUGINS", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "dynamo" not in registry.known_schemes()
    with pytest.raises(ValidationError):
        connect("dynamo://table")


def test_register_in_process(fake_plugins: list[_EntryPoint]) -> None:
    seen: list[tuple[str, bool]] = []

    def factory(url: str, *, migrate: bool = True) -> Storage:
        seen.append((url, migrate))
        return MemoryStorage()

    registry.register("Scratch", factory)
    try:
        with connect("scratch://x", migrate=False):
            pass
        assert [("scratch://x", False)] == seen
    finally:
        registry.unregister("scratch")
    with pytest.raises(ValidationError):
        registry.register("x", "not callable")  # type: ignore[arg-type]


def test_scheme_of() -> None:
    assert "postgresql+psycopg" == registry.scheme_of("postgresql+psycopg://u@h/db")
    assert "sqlite" == registry.scheme_of("SQLite:///x.db")
