"""``python -m multistore.adapters.sqlalchemy upgrade URL``: apply the packaged migrations."""

from __future__ import annotations

import argparse
import sys

from multistore.adapters.sqlalchemy.migrate import head_revision, upgrade
from multistore.errors import MultistoreError


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m multistore.adapters.sqlalchemy")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="upgrade a database to the newest schema")
    up.add_argument("url", help="sqlite:///path.db or postgresql+psycopg://user@host/db")
    up.add_argument("--schema", default=None, help="PostgreSQL schema (default: public)")
    sub.add_parser("heads", help="print the newest shipped revision")
    args = parser.parse_args(argv)
    try:
        if args.command == "heads":
            sys.stdout.write(head_revision() + "\n")
        else:
            revision = upgrade(args.url, schema=args.schema)
            sys.stdout.write(f"database is at revision {revision}\n")
    except MultistoreError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
