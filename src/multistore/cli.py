"""The ``multistore`` command: version, migrations and the demo of a day at the demo chain."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import click

from multistore import __version__

DEMO_SECTIONS = ("chain", "routing", "pricing", "tax", "replenishment")
"""Demo sections in the order they run; each but ``chain`` is ``multistore.demo.<name>.run``."""


@click.group()
def main() -> None:
    """multistore: multi-store retail SDK (stores, stock, orders, promotions, tax)."""


@main.command()
def version() -> None:
    """Print the installed multistore version."""
    click.echo(f"multistore {__version__}")


@main.command()
@click.option("--url", required=True, help="Database URL, e.g. sqlite:///multistore.db")
def migrate(url: str) -> None:
    """Apply the shipped database migrations to URL (safe to run again)."""
    from multistore.adapters.sqlalchemy import create_storage  # noqa: PLC0415 - SQL only here

    storage = create_storage(url, migrate=True)
    storage.close()
    click.echo(f"migrated {url}")


@main.command()
@click.option(
    "--db",
    "db_path",
    default="multistore-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file for the demo chain (recreated on every run).",
)
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(DEMO_SECTIONS),
    help="Run only these sections (repeatable); all by default.",
)
def demo(db_path: Path, sections: tuple[str, ...]) -> None:
    """Build the demo chain in a SQLite file and walk through what multistore does."""
    out: Callable[[str], None] = click.echo
    for name in sections or DEMO_SECTIONS:
        out("")
        out("=" * 78)
        out(f" {name.upper()}")
        out("=" * 78)
        if name == "chain":
            from multistore.demo.store_chain import run as run_chain  # noqa: PLC0415

            run_chain(out, db_path=db_path)
            continue
        module = importlib.import_module(f"multistore.demo.{name}")
        module.run(out)


if __name__ == "__main__":  # pragma: no cover
    main()
