"""SQL repositories: rows mapped to and from the plain attrs domain values by hand.

Every write is a single statement whose ``WHERE`` clause or constraint decides, so the outcome is
right under any number of concurrent units of work:

* uniqueness (store ids, SKU codes, reservation keys, ``(channel, external_id)``, event ids) is
  ``INSERT ... ON CONFLICT DO NOTHING`` followed, when nothing was inserted, by a read of the row
  that won; never a read before the write;
* a reservation line is ``UPDATE stock_levels SET reserved = reserved + q WHERE ... AND
  on_hand - reserved - safety_buffer >= q``; lines go in sorted ``(store, sku)`` order so two
  reservations never lock the same rows in opposite orders;
* status changes (release, commit, expire, order status) are ``UPDATE ... WHERE status = old``;
* ``reservation_lines`` has no foreign key (its check cost a lookup per line): lines are only
  ever inserted by the statement or transaction that claimed their key, and every delete of a
  reservation (the undo of a short hold) deletes its lines in the same transaction.

A method that raises has written nothing: it either fails before writing, undoes its own rows
(reservations, whose rows it still holds locked), or works inside a savepoint.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    Table,
    bindparam,
    delete,
    insert,
    literal_column,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from multistore import money as m
from multistore._validation import check_id, check_non_negative_int
from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.cipher import Cipher
from multistore.adapters.sqlalchemy.errors import is_transient, retries_exhausted, translate
from multistore.catalog.model import Product, Sku
from multistore.errors import (
    ConflictError,
    InsufficientStockError,
    NotFoundError,
)
from multistore.geo import GeoPoint
from multistore.inventory.model import (
    MovementKind,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from multistore.members.model import Member
from multistore.orders.model import Order, OrderLine, OrderStatus
from multistore.stores.model import Address, OpeningHours, OpeningPeriod, Store, StoreStatus

if TYPE_CHECKING:
    from multistore.adapters.sqlalchemy.storage import SqlStorage, SqlUnitOfWork

__all__ = [
    "SqlMemberRepository",
    "SqlOrderRepository",
    "SqlProductRepository",
    "SqlStockRepository",
    "SqlStoreRepository",
    "dialect_insert",
    "hold_now",
]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="_Repository")

_CHUNK = 500


def translated(
    action: str,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """Decorate a repository method so driver errors surface as multistore errors."""

    def wrap(fn: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        @functools.wraps(fn)
        def inner(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:  # what `with translating(action):` does, without a generator per call
                return fn(self, *args, **kwargs)
            except (sa_exc.SQLAlchemyError, OverflowError) as exc:
                raise translate(exc, action=action) from exc

        return inner

    return wrap


def dialect_insert(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    """Return the dialect's ``INSERT`` (the one with ``ON CONFLICT`` support) for ``table``."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class _Repository:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    @property
    def _conn(self) -> Connection:
        return self._uow.connection()

    def _driver_rows(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run one hot statement straight on the driver's cursor, in the unit's transaction.

        Skips SQLAlchemy's per-execution work (half the client CPU of a reservation); driver
        errors are wrapped as SQLAlchemy would wrap them (a lost connection is invalidated), so
        :func:`translated` turns them into multistore errors as usual. ``sql`` uses the
        driver's ``%(name)s`` parameters; psycopg prepares it once per connection.
        """
        conn = self._conn
        proxied = conn.connection
        dbapi = conn.dialect.loaded_dbapi
        try:
            driver: Any = proxied.dbapi_connection
            cursor = driver.cursor()
            try:
                cursor.execute(sql, params, prepare=True)
                return list(cursor.fetchall()) if cursor.description else []
            finally:
                cursor.close()
        except dbapi.Error as exc:
            raise _driver_error(conn, exc, sql, dict(params)) from exc

    def _insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        return dialect_insert(self._uow.dialect, table)

    def _inserted(self, stmt: sqlite.Insert | postgresql.Insert) -> int:
        """Execute an ``INSERT ... ON CONFLICT DO NOTHING``; return how many rows it inserted.

        Counted through ``RETURNING`` because drivers do not all report an INSERT's rowcount.
        """
        table = stmt.table
        assert isinstance(table, Table)
        key = next(iter(table.primary_key.columns))
        return len(self._conn.execute(stmt.returning(key)).all())


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


# --- stores ----------------------------------------------------------------------------------


def _hours_to_json(hours: OpeningHours) -> dict[str, Any]:
    return {
        "timezone": hours.timezone,
        "periods": [
            {"weekday": p.weekday, "opens": p.opens.isoformat(), "closes": p.closes.isoformat()}
            for p in hours.periods
        ],
    }


def _hours_from_json(data: Mapping[str, Any]) -> OpeningHours:
    return OpeningHours(
        tuple(
            OpeningPeriod(
                int(p["weekday"]), time.fromisoformat(p["opens"]), time.fromisoformat(p["closes"])
            )
            for p in data.get("periods", ())
        ),
        str(data.get("timezone", "Asia/Shanghai")),
    )


def _store_values(store: Store) -> dict[str, Any]:
    a = store.address
    return {
        "id": store.id,
        "name": store.name,
        "region": store.region,
        "format": store.format,
        "province": a.province,
        "city": a.city,
        "district": a.district,
        "street": a.street,
        "postcode": a.postcode,
        "lat": store.location.lat,
        "lon": store.location.lon,
        "opening_hours": _hours_to_json(store.opening_hours),
        "status": store.status.value,
        "phone": store.phone,
        "delivers": store.delivers,
        "pickup": store.pickup,
    }


def _store_from_row(row: Row[Any]) -> Store:
    return Store(
        id=row.id,
        name=row.name,
        region=row.region,
        format=row.format,
        address=Address(
            province=row.province,
            city=row.city,
            district=row.district,
            street=row.street,
            postcode=row.postcode,
        ),
        location=GeoPoint(row.lat, row.lon),
        opening_hours=_hours_from_json(row.opening_hours),
        status=StoreStatus(row.status),
        phone=row.phone,
        delivers=bool(row.delivers),
        pickup=bool(row.pickup),
    )


def _store_not_found(store_id: str) -> NotFoundError:
    return NotFoundError(
        f"store {store_id!r} does not exist; create it first", code="store.not_found"
    )


_LOOKUP = union_all(
    select(
        literal_column("'store'").label("kind"),
        t.stores.c.id.label("id"),
        t.stores.c.region.label("region"),
    ).where(t.stores.c.id.in_(bindparam("stores", expanding=True))),
    select(literal_column("'sku'"), t.skus.c.code, null()).where(
        t.skus.c.code.in_(bindparam("skus", expanding=True))
    ),
)
"""The regions of some stores and which of some SKU codes exist, in one round trip."""

_GET_STORE = select(t.stores).where(t.stores.c.id == bindparam("id"))
_GET_SKU = select(t.skus).where(t.skus.c.code == bindparam("code"))


class SqlStoreRepository(_Repository):
    """Stores in SQL (see :class:`multistore.ports.storage.StoreRepository`)."""

    @translated("looking up stores and SKUs")
    def lookup(
        self, *, store_ids: Collection[str], skus: Collection[str]
    ) -> tuple[dict[str, str], frozenset[str]]:
        """Return the region of each existing store and the SKU codes that exist, in one query.

        Unknown ids are simply missing from the answer (the services raise their own errors).
        """
        regions: dict[str, str] = {}
        known: set[str] = set()
        rows = self._conn.execute(_LOOKUP, {"stores": sorted(store_ids), "skus": sorted(skus)})
        for row in rows:
            if row.kind == "store":
                regions[row.id] = row.region
            else:
                known.add(row.id)
        return regions, frozenset(known)

    @translated("adding a store")
    def add(self, store: Store) -> None:
        """Insert a new store; ``store.duplicate`` if the id exists."""
        stmt = self._insert(t.stores).values(_store_values(store)).on_conflict_do_nothing()
        if self._inserted(stmt) == 0:
            raise ConflictError(
                f"store {store.id!r} already exists; update it instead", code="store.duplicate"
            )

    @translated("reading a store")
    def get(self, store_id: str) -> Store:
        """Return the store; ``store.not_found`` if unknown."""
        row = self._conn.execute(_GET_STORE, {"id": store_id}).first()
        if row is None:
            raise _store_not_found(store_id)
        return _store_from_row(row)

    @translated("updating a store")
    def update(self, store: Store) -> None:
        """Replace an existing store's fields; ``store.not_found`` if unknown."""
        values = _store_values(store)
        del values["id"]
        stmt = update(t.stores).where(t.stores.c.id == store.id).values(values)
        if self._conn.execute(stmt).rowcount == 0:
            raise _store_not_found(store.id)

    @translated("listing stores")
    def list(
        self,
        *,
        region: str | None = None,
        format: str | None = None,  # noqa: A002 - the port's parameter name (业态)
        status: StoreStatus | None = None,
    ) -> Sequence[Store]:
        """Return the stores matching every given filter, sorted by id."""
        stmt = select(t.stores)
        if region is not None:
            stmt = stmt.where(t.stores.c.region == region)
        if format is not None:
            stmt = stmt.where(t.stores.c.format == format)
        if status is not None:
            stmt = stmt.where(t.stores.c.status == StoreStatus(status).value)
        found = [_store_from_row(row) for row in self._conn.execute(stmt)]
        return sorted(found, key=lambda s: s.id)


# --- catalog ---------------------------------------------------------------------------------


def _sku_from_row(row: Row[Any]) -> Sku:
    return Sku(
        code=row.code,
        name=row.name,
        list_price=m.from_minor(int(row.list_price_minor), row.currency),
        tax_category=row.tax_category,
        specs=dict(row.specs),
        barcode=row.barcode,
        product_id=row.declared_product_id,
    )


class SqlProductRepository(_Repository):
    """Products and SKUs in SQL (see :class:`multistore.ports.storage.ProductRepository`)."""

    @translated("adding a product")
    def add(self, product: Product) -> None:
        """Insert a product with its SKUs; conflicts on a duplicate id or SKU code in use."""
        conn = self._conn
        with conn.begin_nested():
            stmt = (
                self._insert(t.products)
                .values(
                    id=product.id,
                    name=product.name,
                    category=product.category,
                    brand=product.brand,
                    images=list(product.images),
                    description=product.description,
                )
                .on_conflict_do_nothing()
            )
            if self._inserted(stmt) == 0:
                raise ConflictError(
                    f"product {product.id!r} already exists", code="catalog.duplicate_product"
                )
            rows = [
                {
                    "code": sku.code,
                    "product_id": product.id,
                    "position": i,
                    "declared_product_id": sku.product_id,
                    "name": sku.name,
                    "list_price_minor": m.to_minor(sku.list_price),
                    "currency": sku.list_price.currency.value,
                    "tax_category": sku.tax_category,
                    "specs": dict(sku.specs),
                    "barcode": sku.barcode,
                }
                for i, sku in enumerate(product.skus)
            ]
            inserted = self._inserted(self._insert(t.skus).values(rows).on_conflict_do_nothing())
            if inserted != len(rows):
                codes = [sku.code for sku in product.skus]
                owners = conn.execute(
                    select(t.skus.c.code, t.skus.c.product_id).where(
                        t.skus.c.code.in_(codes), t.skus.c.product_id != product.id
                    )
                ).all()
                code, owner = min((str(r.code), str(r.product_id)) for r in owners)
                raise ConflictError(
                    f"SKU code {code!r} already belongs to product {owner!r}; choose another code",
                    code="catalog.duplicate_sku",
                    details={"sku": code, "product_id": owner},
                )

    @translated("reading a product")
    def get(self, product_id: str) -> Product:
        """Return the product; ``catalog.product_not_found`` if unknown."""
        found = _load_products(self._conn, select(t.products).where(t.products.c.id == product_id))
        if not found:
            raise NotFoundError(
                f"product {product_id!r} does not exist", code="catalog.product_not_found"
            )
        return found[0]

    @translated("reading a SKU")
    def get_sku(self, code: str) -> Sku:
        """Return the SKU; ``catalog.sku_not_found`` if unknown."""
        row = self._conn.execute(_GET_SKU, {"code": code}).first()
        if row is None:
            raise NotFoundError(f"SKU {code!r} does not exist", code="catalog.sku_not_found")
        return _sku_from_row(row)

    @translated("listing products")
    def list(self) -> Sequence[Product]:
        """Return every product, sorted by id."""
        return _load_products(self._conn, select(t.products))


def _load_products(conn: Connection, stmt: Any) -> list[Product]:
    """Read the products ``stmt`` selects, with their SKUs, sorted by id."""
    heads = conn.execute(stmt).all()
    if not heads:
        return []
    ids = [str(h.id) for h in heads]
    by_product: dict[str, list[Row[Any]]] = defaultdict(list)
    for chunk in _chunks(ids):
        for row in conn.execute(select(t.skus).where(t.skus.c.product_id.in_(chunk))):
            by_product[row.product_id].append(row)
    products = [
        Product(
            id=h.id,
            name=h.name,
            skus=tuple(
                _sku_from_row(r) for r in sorted(by_product[h.id], key=lambda r: r.position)
            ),
            category=h.category,
            brand=h.brand,
            images=tuple(h.images),
            description=h.description,
        )
        for h in heads
    ]
    return sorted(products, key=lambda p: p.id)


# --- stock -----------------------------------------------------------------------------------


def _level_from_row(row: Row[Any]) -> StockLevel:
    return StockLevel(
        row.store_id,
        row.sku,
        on_hand=int(row.on_hand),
        reserved=int(row.reserved),
        safety_buffer=int(row.safety_buffer),
    )


def _closed(res: Reservation, verb: str) -> ConflictError:
    return ConflictError(
        f"reservation {res.key!r} is {res.status.value} and cannot be {verb}",
        code="stock.reservation_closed",
        details={"key": res.key, "status": res.status.value},
    )


_LEVEL = t.stock_levels.c
_AVAILABLE = _LEVEL.on_hand - _LEVEL.reserved - _LEVEL.safety_buffer

_HOLD = (
    update(t.stock_levels)
    .where(
        _LEVEL.store_id == bindparam("s"),
        _LEVEL.sku == bindparam("k"),
        bindparam("q", type_=BigInteger()) <= _AVAILABLE,
    )
    .values(reserved=_LEVEL.reserved + bindparam("q", type_=BigInteger()))
)
"""The reservation of one line: holds ``q`` units only if that many are available."""

_UNHOLD = (
    update(t.stock_levels)
    .where(_LEVEL.store_id == bindparam("s"), _LEVEL.sku == bindparam("k"))
    .values(reserved=_LEVEL.reserved - bindparam("q", type_=BigInteger()))
)
"""Gives ``q`` held units of one line back."""

_PG_CLAIM = text(
    """
    WITH claimed AS (
        INSERT INTO reservations (key, status, created_at, expires_at)
        VALUES (:key, 'active', :created_at, :expires_at)
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    )
    INSERT INTO reservation_lines (reservation_key, store_id, sku, quantity)
    SELECT claimed.key, line.store_id, line.sku, line.quantity
    FROM claimed,
         unnest(CAST(:stores AS text[]), CAST(:skus AS text[]), CAST(:quantities AS bigint[]))
           AS line (store_id, sku, quantity)
    RETURNING reservation_key
    """
).bindparams(
    bindparam("created_at", type_=t.UtcDateTime()),
    bindparam("expires_at", type_=t.UtcDateTime()),
)
"""PostgreSQL: claim a reservation key and insert its lines in one round trip."""

_PG_RESERVE_MANY = """
    WITH wanted AS (
        SELECT w.store_id, w.sku, w.quantity
        FROM unnest(CAST(%(stores)s AS text[]), CAST(%(skus)s AS text[]),
                    CAST(%(quantities)s AS bigint[])) AS w (store_id, sku, quantity)
    ),
    claimed AS (
        INSERT INTO reservations (key, status, created_at, expires_at)
        VALUES (%(key)s, 'active', %(created_at)s, %(expires_at)s)
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    ),
    locked AS (
        SELECT l.store_id, l.sku, l.on_hand, l.reserved, l.safety_buffer
        FROM stock_levels AS l
        WHERE EXISTS (SELECT 1 FROM claimed)
          AND (l.store_id, l.sku) IN (SELECT wanted.store_id, wanted.sku FROM wanted)
        ORDER BY l.store_id COLLATE "C", l.sku COLLATE "C"
        FOR UPDATE OF l
    ),
    checked AS (
        SELECT count(*) = %(n)s AS ok
        FROM locked JOIN wanted USING (store_id, sku)
        WHERE locked.on_hand - locked.reserved - locked.safety_buffer >= wanted.quantity
    ),
    stored AS (
        INSERT INTO reservation_lines (reservation_key, store_id, sku, quantity)
        SELECT claimed.key, wanted.store_id, wanted.sku, wanted.quantity
        FROM claimed, wanted, checked
        WHERE checked.ok
    ),
    held AS (
        UPDATE stock_levels AS l
        SET reserved = l.reserved + wanted.quantity
        FROM wanted, checked
        WHERE checked.ok AND l.store_id = wanted.store_id AND l.sku = wanted.sku
          AND l.on_hand - l.reserved - l.safety_buffer >= wanted.quantity
        RETURNING l.store_id, l.sku, l.on_hand, l.reserved, l.safety_buffer
    )
    SELECT 'held' AS kind, store_id, sku, on_hand, reserved, safety_buffer FROM held
    UNION ALL
    SELECT 'seen', store_id, sku, on_hand, reserved, safety_buffer FROM locked
    UNION ALL
    SELECT 'claimed', {claimed}, NULL, NULL, NULL, NULL FROM claimed
"""

_PG_RESERVE_ONE = """
    WITH claimed AS (
        INSERT INTO reservations (key, status, created_at, expires_at)
        VALUES (%(key)s, 'active', %(created_at)s, %(expires_at)s)
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    ),
    held AS (
        UPDATE stock_levels AS l
        SET reserved = l.reserved + CAST(%(quantity)s AS bigint)
        WHERE l.store_id = %(store)s AND l.sku = %(sku)s
          AND l.on_hand - l.reserved - l.safety_buffer >= CAST(%(quantity)s AS bigint)
          AND EXISTS (SELECT 1 FROM claimed)
        RETURNING l.store_id, l.sku, l.on_hand, l.reserved, l.safety_buffer
    ),
    stored AS (
        INSERT INTO reservation_lines (reservation_key, store_id, sku, quantity)
        SELECT claimed.key, held.store_id, held.sku, CAST(%(quantity)s AS bigint)
        FROM claimed, held
    )
    SELECT 'held' AS kind, store_id, sku, on_hand, reserved, safety_buffer FROM held
    UNION ALL
    SELECT 'claimed', {claimed}, NULL, NULL, NULL, NULL FROM claimed
"""

_CLAIMED_KEY = "claimed.key"

_SHORT_MARKER = "multistore:short:"
"""Starts the text whose failed cast aborts a short reservation in autocommit."""

_CLAIMED_OR_ABORT = (
    "CASE WHEN (SELECT count(*) FROM held) = %(n)s THEN claimed.key "
    "ELSE CAST('multistore:short:' || claimed.key AS integer)::text END"
)

_PG_RESERVE = {
    (many, abort): (_PG_RESERVE_MANY if many else _PG_RESERVE_ONE).replace(
        "{claimed}",
        _CLAIMED_OR_ABORT if abort else _CLAIMED_KEY,
    )
    for many in (False, True)
    for abort in (False, True)
}
"""PostgreSQL: a whole reservation in one round trip, by ``(more than one line, abort if short)``.

Every variant claims the key first (``INSERT ... ON CONFLICT DO NOTHING``): a concurrent
duplicate waits on the key's index entry before touching any stock row, so it never holds a
stock row while waiting for a transaction that commits or releases the same key. Only if the
key was claimed are units held:

* one line: the conditional ``UPDATE ... WHERE on_hand - reserved - safety_buffer >= q`` locks
  and checks the row, and the line is stored only if it held;
* several lines: ``locked`` takes the row locks in sorted ``(store, sku)`` order (byte order,
  like Python's sort, whatever the database collation) and reads the latest committed levels;
  ``checked`` says whether every line is available; only then are the lines stored and the
  units held, the availability condition repeated in the ``UPDATE``.

Rows: ``claimed``, ``held`` (levels after the hold) and, for several lines, ``seen`` (levels
when locked). Claimed but short: in a unit of work the caller deletes the claim; the *abort*
variant instead fails the ``claimed`` row's cast, so the statement (and its autocommit
transaction) writes nothing at all (see :func:`hold_now`).
"""

_SQLITE_CLAIM = (
    "INSERT INTO reservations (key, status, created_at, expires_at) "
    "VALUES (?, 'active', ?, ?) ON CONFLICT (key) DO NOTHING"
)
"""SQLite, run on the driver: claim a reservation key; its row count says whether it did."""

_SQLITE_ADD_LINE = (
    "INSERT INTO reservation_lines (reservation_key, store_id, sku, quantity) VALUES (?, ?, ?, ?)"
)
"""SQLite, run on the driver: store one line of a claimed reservation."""

_SQLITE_HOLD = (
    "UPDATE stock_levels SET reserved = reserved + ?1 "
    "WHERE store_id = ?2 AND sku = ?3 AND on_hand - reserved - safety_buffer >= ?1 "
    "RETURNING store_id, sku, on_hand, reserved, safety_buffer"
)
"""SQLite, run on the driver: hold ``?1`` units of one line only if available; return the level."""


def _sqlite_stamp_processors() -> tuple[
    Callable[[datetime | None], Any], Callable[[Any], datetime | None]
]:
    """SQLAlchemy's SQLite processors of the reservation timestamp column: (write, read)."""
    dialect = sqlite.dialect()
    impl = t.reservations.c.created_at.type.dialect_impl(dialect)
    write, read = impl.bind_processor(dialect), impl.result_processor(dialect, None)
    assert write is not None
    assert read is not None
    return write, read


_sqlite_stamp, _sqlite_moment = _sqlite_stamp_processors()
"""A reservation timestamp as SQLAlchemy stores it in SQLite (the same text, byte for byte),
and read back as SQLAlchemy reads it (aware, UTC)."""

_SQLITE_CLOSE = (
    "UPDATE reservations SET status = ?1 WHERE key = ?2 AND status = 'active' "
    "RETURNING created_at, expires_at"
)
"""SQLite, run on the driver: move one active reservation to status ``?1``."""

_SQLITE_LINES = "SELECT store_id, sku, quantity FROM reservation_lines WHERE reservation_key = ?"

_SQLITE_UNHOLD = "UPDATE stock_levels SET reserved = reserved - ?1 WHERE store_id = ?2 AND sku = ?3"
"""SQLite, run on the driver: give ``?1`` held units of one line back."""

_SQLITE_SELL = (
    "UPDATE stock_levels SET on_hand = on_hand - ?1, reserved = reserved - ?1 "
    "WHERE store_id = ?2 AND sku = ?3"
)
"""SQLite, run on the driver: turn ``?1`` held units of one line into a sale."""

_SQLITE_MOVEMENT = (
    "INSERT INTO stock_movements "
    "(store_id, sku, kind, quantity, occurred_at, reason, reference, actor_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _driver_error(conn: Connection, exc: Any, sql: str, params: Any) -> sa_exc.StatementError:
    """Wrap a driver error as SQLAlchemy would (a lost connection is invalidated)."""
    lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
    if lost:
        conn.invalidate(exc)
    error: sa_exc.StatementError = sa_exc.DBAPIError.instance(
        sql, params, exc, conn.dialect.loaded_dbapi.Error, connection_invalidated=lost
    )
    return error


def _sqlite_claim(driver: Any, reservation: Reservation) -> bool:
    """Claim the key and store the lines on a sqlite3 connection; return whether it claimed.

    Driver errors are left to the caller (see :func:`_driver_error`).
    """
    key = reservation.key
    claim = (key, _sqlite_stamp(reservation.created_at), _sqlite_stamp(reservation.expires_at))
    if driver.execute(_SQLITE_CLAIM, claim).rowcount != 1:
        return False
    lines = reservation.lines
    if len(lines) == 1:
        line = lines[0]
        driver.execute(_SQLITE_ADD_LINE, (key, line.store_id, line.sku, line.quantity))
    else:
        driver.executemany(_SQLITE_ADD_LINE, [(key, x.store_id, x.sku, x.quantity) for x in lines])
    return True


_DELETE_RESERVATION = delete(t.reservations).where(t.reservations.c.key == bindparam("key"))
_DELETE_LINES = delete(t.reservation_lines).where(
    t.reservation_lines.c.reservation_key == bindparam("key")
)
"""The lines of one reservation: deleted with it (``reservation_lines`` has no foreign key)."""

_R = t.reservations.c
_RL = t.reservation_lines.c
_ONE_RESERVATION = (
    select(_R.status, _R.created_at, _R.expires_at, _RL.store_id, _RL.sku, _RL.quantity)
    .select_from(t.reservations.outerjoin(t.reservation_lines, _RL.reservation_key == _R.key))
    .where(_R.key == bindparam("key"))
)
"""One reservation with its lines (one row per line), in one round trip."""

_DUE = text(t.EXPIRY_DUE)
"""The predicate of the partial expiry index, as SQL text so that the planner can match it."""


def _utc(moment: datetime | None) -> datetime | None:
    """A timestamp as PostgreSQL receives it from ``UtcDateTime`` (aware, UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _level_from_tuple(row: Sequence[Any]) -> StockLevel:
    """A level from a ``(kind, store_id, sku, on_hand, reserved, safety_buffer)`` row."""
    return StockLevel(
        row[1], row[2], on_hand=int(row[3]), reserved=int(row[4]), safety_buffer=int(row[5])
    )


def _active(reservation: Reservation) -> Reservation:
    """``reservation`` as stored by a hold: status ``active`` (frozen, so shared if it is)."""
    if reservation.status is ReservationStatus.ACTIVE:
        return reservation
    return Reservation(
        key=reservation.key,
        lines=reservation.lines,
        status=ReservationStatus.ACTIVE,
        created_at=reservation.created_at,
        expires_at=reservation.expires_at,
    )


def _in(line: ReservationLine, levels: Sequence[StockLevel]) -> bool:
    return any(x.store_id == line.store_id and x.sku == line.sku for x in levels)


def _short(
    reservation: Reservation,
    levels: Mapping[tuple[str, str], StockLevel],
    failed: ReservationLine | None,
) -> InsufficientStockError:
    """The ``stock.insufficient`` error naming every line the ``levels`` cannot cover.

    ``failed`` is named whatever its level says; if no line is named (the levels were read
    after the failed hold and stock came back meanwhile), every line is.
    """
    short: list[dict[str, object]] = []
    named = {
        line
        for line in reservation.lines
        if line is failed
        or levels.get((line.store_id, line.sku), StockLevel(line.store_id, line.sku)).available
        < line.quantity
    }
    for line in reservation.lines:
        level = levels.get((line.store_id, line.sku), StockLevel(line.store_id, line.sku))
        if line in named or not named:
            short.append(
                {
                    "store_id": line.store_id,
                    "sku": line.sku,
                    "requested": line.quantity,
                    "available": level.available,
                }
            )
    names = ", ".join(
        f"{s['store_id']}/{s['sku']} (asked {s['requested']}, available {s['available']})"
        for s in short
    )
    return InsufficientStockError(
        f"not enough stock for reservation {reservation.key!r}: {names}; nothing was held",
        code="stock.insufficient",
        details={"key": reservation.key, "short_lines": short},
    )


def _pg_hold_call(reservation: Reservation, *, abort: bool) -> tuple[str, dict[str, Any]]:
    """The statement (see :data:`_PG_RESERVE`) and parameters that hold ``reservation``."""
    lines = reservation.lines
    params: dict[str, Any] = {
        "key": reservation.key,
        "created_at": _utc(reservation.created_at),
        "expires_at": _utc(reservation.expires_at),
        "n": len(lines),
    }
    many = len(lines) > 1
    if many:
        params.update(
            stores=[line.store_id for line in lines],
            skus=[line.sku for line in lines],
            quantities=[line.quantity for line in lines],
        )
    else:
        line = lines[0]
        params.update(store=line.store_id, sku=line.sku, quantity=line.quantity)
    return _PG_RESERVE[(many, abort)], params


def _pg_hold_rows(
    rows: Sequence[Sequence[Any]],
) -> tuple[bool, list[StockLevel], dict[tuple[str, str], StockLevel]]:
    """Read the rows of :data:`_PG_RESERVE`: ``(claimed, held levels sorted, seen levels)``."""
    claimed = False
    held: list[StockLevel] = []
    seen: dict[tuple[str, str], StockLevel] = {}
    for row in rows:
        if row[0] == "claimed":
            claimed = True
        elif row[0] == "held":
            held.append(_level_from_tuple(row))
        else:
            seen[(row[1], row[2])] = _level_from_tuple(row)
    held.sort(key=lambda x: (x.store_id, x.sku))
    return claimed, held, seen


class SqlStockRepository(_Repository):
    """Stock levels, the ledger and reservations in SQL.

    See :class:`multistore.ports.storage.StockRepository`; the concurrency guarantee comes from
    the conditional UPDATEs and the table's CHECK constraints, not from locks held in Python.
    """

    @translated("reading stock")
    def get(self, store_id: str, sku: str) -> StockLevel:
        """Return the level; a pair never stocked reads as all zeros."""
        row = self._conn.execute(
            select(t.stock_levels).where(_LEVEL.store_id == store_id, _LEVEL.sku == sku)
        ).first()
        return StockLevel(store_id, sku) if row is None else _level_from_row(row)

    @translated("reading a stock snapshot")
    def snapshot(
        self, *, skus: Collection[str], store_ids: Collection[str] | None = None
    ) -> Mapping[tuple[str, str], StockLevel]:
        """Return the stocked levels of ``skus`` in ``store_ids`` (every store if ``None``)."""
        wanted = sorted(set(skus))
        stores = None if store_ids is None else sorted(set(store_ids))
        if not wanted or stores == []:
            return {}
        conn = self._conn
        out: dict[tuple[str, str], StockLevel] = {}
        for sku_chunk in _chunks(wanted):
            for store_chunk in [None] if stores is None else _chunks(stores):
                stmt = select(t.stock_levels).where(_LEVEL.sku.in_(sku_chunk))
                if store_chunk is not None:
                    stmt = stmt.where(_LEVEL.store_id.in_(store_chunk))
                for row in conn.execute(stmt):
                    out[(row.store_id, row.sku)] = _level_from_row(row)
        return dict(sorted(out.items()))

    @translated("setting a safety buffer")
    def set_safety_buffer(self, store_id: str, sku: str, units: int) -> StockLevel:
        """Set the units never sold online for one pair; returns the new level."""
        store_id = check_id(store_id, "store_id")
        sku = check_id(sku, "sku")
        check_non_negative_int(units, "safety buffer units")
        ins = self._insert(t.stock_levels).values(
            store_id=store_id, sku=sku, on_hand=0, reserved=0, safety_buffer=units
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[_LEVEL.store_id, _LEVEL.sku],
            set_={"safety_buffer": ins.excluded.safety_buffer},
        ).returning(*t.stock_levels.c)
        row = self._conn.execute(stmt).one()
        return _level_from_row(row)

    @translated("recording a stock movement")
    def record(self, movement: StockMovement) -> StockLevel:
        """Apply a movement and append it to the ledger.

        Raises ``InsufficientStockError`` (``stock.negative``) if on hand would drop below zero
        or below what is reserved; nothing is written then.
        """
        conn = self._conn
        q = movement.quantity
        if q > 0:
            ins = self._insert(t.stock_levels).values(
                store_id=movement.store_id, sku=movement.sku, on_hand=q, reserved=0, safety_buffer=0
            )
            stmt: Any = ins.on_conflict_do_update(
                index_elements=[_LEVEL.store_id, _LEVEL.sku],
                set_={"on_hand": _LEVEL.on_hand + ins.excluded.on_hand},
            ).returning(*t.stock_levels.c)
        else:
            stmt = (
                update(t.stock_levels)
                .where(
                    _LEVEL.store_id == movement.store_id,
                    _LEVEL.sku == movement.sku,
                    _LEVEL.on_hand + q >= _LEVEL.reserved,
                )
                .values(on_hand=_LEVEL.on_hand + q)
                .returning(*t.stock_levels.c)
            )
        row = conn.execute(stmt).first()
        if row is None:
            level = self.get(movement.store_id, movement.sku)
            new_on_hand = level.on_hand + q
            raise InsufficientStockError(
                f"{movement.kind.value} of {q} would leave {new_on_hand} on hand for "
                f"{movement.store_id}/{movement.sku} with {level.reserved} reserved; record a "
                "smaller quantity or release reservations first",
                code="stock.negative",
                details={
                    "store_id": movement.store_id,
                    "sku": movement.sku,
                    "on_hand": level.on_hand,
                    "reserved": level.reserved,
                    "quantity": q,
                },
            )
        conn.execute(insert(t.stock_movements).values(_movement_values(movement)))
        return _level_from_row(row)

    @translated("reading the stock ledger")
    def movements(self, store_id: str, sku: str) -> Sequence[StockMovement]:
        """Return the ledger of one pair, oldest first."""
        rows = self._conn.execute(
            select(t.stock_movements)
            .where(t.stock_movements.c.store_id == store_id, t.stock_movements.c.sku == sku)
            .order_by(t.stock_movements.c.id)
        )
        return [
            StockMovement(
                store_id=r.store_id,
                sku=r.sku,
                kind=MovementKind(r.kind),
                quantity=int(r.quantity),
                occurred_at=r.occurred_at,
                reason=r.reason,
                reference=r.reference,
                actor_id=r.actor_id,
            )
            for r in rows
        ]

    def reserve(self, reservation: Reservation) -> Reservation:
        """Hold every line or none; idempotent by key (see the port).

        PostgreSQL: one statement (:data:`_PG_RESERVE`) claims the key (``INSERT ... ON
        CONFLICT DO NOTHING``), holds one line with a conditional UPDATE or several in sorted
        ``(store, sku)`` lock order after checking them all, and stores the lines; a short line
        holds nothing and the claim is deleted (:func:`hold_now` instead aborts the statement).
        SQLite (one writer at a time): the
        key and lines are claimed first, then each line is one conditional UPDATE in sorted
        order; a short line undoes this call's holds and claim. These statements (and those of
        :meth:`release` and :meth:`commit`) run straight on the unit's sqlite3 connection, in
        its transaction, skipping SQLAlchemy's per-statement work.
        """
        return self.hold(reservation)[0]

    @translated("reserving stock")
    def hold(self, reservation: Reservation) -> tuple[Reservation, bool, list[StockLevel]]:
        """Reserve like :meth:`reserve`; also say whether it was a replay and return levels.

        Returns:
            ``(reservation, replayed, levels)``: the stored reservation, ``True`` when the key
            was already held with the same lines (nothing more was held), and the levels of
            the lines' rows after the hold in sorted ``(store, sku)`` order (empty on a
            replay).
        """
        if self._uow.dialect == "postgresql":
            return self._hold_pg(reservation)
        return self._hold_sqlite(reservation)

    def _hold_pg(self, reservation: Reservation) -> tuple[Reservation, bool, list[StockLevel]]:
        lines = reservation.lines
        claimed, held, seen = _pg_hold_rows(
            self._driver_rows(*_pg_hold_call(reservation, abort=False))
        )
        if not claimed:
            existing = self._find_reservation(reservation.key)
            if existing is None:  # pragma: no cover - the winner deleted its claim since
                return self._hold_pg(reservation)
            return self._replay(existing, reservation), True, []
        if len(held) == len(lines):
            return _active(reservation), False, held
        self._undo_claim(reservation.key, [x for x in lines if _in(x, held)])
        if seen:
            raise _short(reservation, seen, None)
        raise self._insufficient(reservation, lines[0])

    def _hold_sqlite(self, reservation: Reservation) -> tuple[Reservation, bool, list[StockLevel]]:
        """Claim, store the lines and hold them in sorted order, straight on the sqlite3 cursor.

        The statements run on the unit's own connection, inside its ``BEGIN IMMEDIATE``
        transaction; only the SQLAlchemy per-statement work (compile cache look-up, parameter
        processing, result metadata, ``Row`` objects) is skipped, about half the client CPU of
        a reservation. A short line undoes this call's holds and claim.
        """
        conn = self._conn
        key = reservation.key
        levels: list[StockLevel] = []
        failed: ReservationLine | None = None
        sql: str = _SQLITE_CLAIM
        params: Any = (key,)
        try:
            driver: Any = conn.connection.dbapi_connection
            claimed = _sqlite_claim(driver, reservation)
            if claimed:
                sql = _SQLITE_HOLD
                for line in reservation.lines:  # sorted (store, sku): the lock order
                    params = (line.quantity, line.store_id, line.sku)
                    rows = driver.execute(sql, params).fetchall()
                    if not rows:
                        failed = line
                        break
                    s, k, on_hand, reserved, buffer = rows[0]
                    levels.append(
                        StockLevel(s, k, on_hand=on_hand, reserved=reserved, safety_buffer=buffer)
                    )
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _driver_error(conn, exc, sql, params) from exc
        if not claimed:
            existing = self._find_reservation(key)
            if existing is None:  # pragma: no cover - the claim lost to this very key
                raise NotFoundError(
                    f"reservation {key!r} does not exist", code="stock.reservation_not_found"
                )
            return self._replay(existing, reservation), True, []
        if failed is not None:
            self._undo_claim(key, reservation.lines[: len(levels)])
            raise self._insufficient(reservation, failed)
        return _active(reservation), False, levels

    def _replay(self, existing: Reservation, reservation: Reservation) -> Reservation:
        if existing.lines == reservation.lines:
            return existing
        raise ConflictError(
            f"reservation key {reservation.key!r} is already used for other lines; "
            "use a new key for a different hold",
            code="stock.reservation_conflict",
            details={"key": reservation.key},
        )

    def _undo_claim(self, key: str, held: Sequence[ReservationLine]) -> None:
        """Give back ``held`` and delete this transaction's claim of ``key`` with its lines."""
        self._unreserve(held)
        self._conn.execute(_DELETE_LINES, {"key": key})
        self._conn.execute(_DELETE_RESERVATION, {"key": key})

    def _claim(self, reservation: Reservation) -> bool:
        """Insert the reservation and its lines unless the key exists; return whether it did."""
        conn = self._conn
        lines = reservation.lines
        if self._uow.dialect == "postgresql":
            rows = conn.execute(
                _PG_CLAIM,
                {
                    "key": reservation.key,
                    "created_at": reservation.created_at,
                    "expires_at": reservation.expires_at,
                    "stores": [line.store_id for line in lines],
                    "skus": [line.sku for line in lines],
                    "quantities": [line.quantity for line in lines],
                },
            ).all()
            return len(rows) > 0
        try:
            return _sqlite_claim(conn.connection.dbapi_connection, reservation)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _driver_error(conn, exc, _SQLITE_CLAIM, (reservation.key,)) from exc

    def _unreserve(self, lines: Sequence[ReservationLine]) -> None:
        for line in lines:
            self._conn.execute(_UNHOLD, {"s": line.store_id, "k": line.sku, "q": line.quantity})

    def _insufficient(self, reservation: Reservation, failed: ReservationLine) -> Exception:
        pairs = [(line.store_id, line.sku) for line in reservation.lines]
        levels = self.snapshot(
            skus={sku for _, sku in pairs}, store_ids={store for store, _ in pairs}
        )
        return _short(reservation, levels, failed)

    @translated("reading a reservation")
    def get_reservation(self, key: str) -> Reservation:
        """Return a reservation; ``stock.reservation_not_found`` if unknown."""
        found = self._find_reservation(key)
        if found is None:
            raise NotFoundError(
                f"reservation {key!r} does not exist", code="stock.reservation_not_found"
            )
        return found

    def _find_reservation(self, key: str) -> Reservation | None:
        """Read one reservation with its lines in one statement, or ``None``."""
        rows = self._conn.execute(_ONE_RESERVATION, {"key": key}).all()
        if not rows:
            return None
        head = rows[0]
        return Reservation(
            key=key,
            lines=tuple(
                ReservationLine(r.store_id, r.sku, int(r.quantity))
                for r in rows
                if r.store_id is not None
            ),
            status=ReservationStatus(head.status),
            created_at=head.created_at,
            expires_at=head.expires_at,
        )

    def _load_reservations(self, keys: Sequence[str]) -> list[Reservation]:
        conn = self._conn
        heads: dict[str, Row[Any]] = {}
        lines: dict[str, list[ReservationLine]] = defaultdict(list)
        for chunk in _chunks(keys):
            for row in conn.execute(select(t.reservations).where(t.reservations.c.key.in_(chunk))):
                heads[row.key] = row
            for row in conn.execute(
                select(t.reservation_lines).where(t.reservation_lines.c.reservation_key.in_(chunk))
            ):
                lines[row.reservation_key].append(
                    ReservationLine(row.store_id, row.sku, int(row.quantity))
                )
        return [
            Reservation(
                key=key,
                lines=tuple(lines[key]),
                status=ReservationStatus(heads[key].status),
                created_at=heads[key].created_at,
                expires_at=heads[key].expires_at,
            )
            for key in keys
            if key in heads
        ]

    def _transition(self, keys: Sequence[str], to: ReservationStatus) -> list[str]:
        """Move active reservations to ``to``; return the keys this call moved."""
        moved: list[str] = []
        for chunk in _chunks(sorted(keys)):
            rows = self._conn.execute(
                update(t.reservations)
                .where(
                    t.reservations.c.key.in_(chunk),
                    t.reservations.c.status == ReservationStatus.ACTIVE.value,
                )
                .values(status=to.value)
                .returning(t.reservations.c.key)
            )
            moved.extend(str(r.key) for r in rows)
        return sorted(moved)

    def _unhold(self, keys: Sequence[str], to: ReservationStatus) -> list[Reservation]:
        """Close ``keys`` (already moved to ``to``) and give their units back, rows in order."""
        closed = self._load_reservations(keys)
        per_pair: dict[tuple[str, str], int] = defaultdict(int)
        for res in closed:
            for line in res.lines:
                per_pair[(line.store_id, line.sku)] += line.quantity
        self._unreserve([ReservationLine(s, k, q) for (s, k), q in sorted(per_pair.items())])
        return closed

    @translated("releasing a reservation")
    def release(self, key: str) -> Reservation:
        """Return an active reservation's units to available stock (idempotent)."""
        if self._uow.dialect == "sqlite":
            done = self._close_sqlite(key, ReservationStatus.RELEASED)
            if done is not None:
                return done
        elif self._transition([key], ReservationStatus.RELEASED):
            return self._unhold([key], ReservationStatus.RELEASED)[0]
        res = self.get_reservation(key)
        if res.status is ReservationStatus.RELEASED:
            return res
        raise _closed(res, "released")

    @translated("committing a reservation")
    def commit(self, key: str, *, at: datetime, actor_id: str = "system") -> Reservation:
        """Turn an active reservation into sale movements (idempotent)."""
        if self._uow.dialect == "sqlite":
            done = self._close_sqlite(key, ReservationStatus.COMMITTED, at=at, actor_id=actor_id)
            if done is not None:
                return done
            moved = False
        else:
            moved = bool(self._transition([key], ReservationStatus.COMMITTED))
        if not moved:
            res = self.get_reservation(key)
            if res.status is ReservationStatus.COMMITTED:
                return res
            raise _closed(res, "committed")
        res = self.get_reservation(key)
        conn = self._conn
        sales: list[dict[str, Any]] = []
        for line in res.lines:
            q = line.quantity
            conn.execute(
                update(t.stock_levels)
                .where(_LEVEL.store_id == line.store_id, _LEVEL.sku == line.sku)
                .values(on_hand=_LEVEL.on_hand - q, reserved=_LEVEL.reserved - q)
            )
            sales.append(_movement_values(_sale(res, line, at=at, actor_id=actor_id)))
        conn.execute(insert(t.stock_movements), sales)
        return res

    def _close_sqlite(
        self,
        key: str,
        to: ReservationStatus,
        *,
        at: datetime | None = None,
        actor_id: str = "system",
    ) -> Reservation | None:
        """SQLite: release (or, given ``at``, commit) one active reservation on the driver.

        The same statements as the portable path, in the unit's transaction, without
        SQLAlchemy's per-statement work: the status moves only from ``active``, then each line
        (sorted ``(store, sku)``) gives its units back or becomes a sale with its movement.
        Returns ``None`` (having written nothing) when the reservation is not active.
        """
        conn = self._conn
        sql = _SQLITE_CLOSE
        params: Any = (to.value, key)
        try:
            driver: Any = conn.connection.dbapi_connection
            head = driver.execute(sql, params).fetchall()
            if not head:
                return None
            sql, params = _SQLITE_LINES, (key,)
            found = driver.execute(sql, params).fetchall()
            created_at, expires_at = head[0]
            res = Reservation(
                key=key,
                lines=tuple(ReservationLine(s, k, q) for s, k, q in found),
                status=to,
                created_at=_sqlite_moment(created_at),
                expires_at=_sqlite_moment(expires_at),
            )
            if at is None:
                sql = _SQLITE_UNHOLD
                params = [(x.quantity, x.store_id, x.sku) for x in res.lines]
                driver.executemany(sql, params)
                return res
            sales = [_sale(res, x, at=at, actor_id=actor_id) for x in res.lines]
            sql = _SQLITE_SELL
            params = [(x.quantity, x.store_id, x.sku) for x in res.lines]
            driver.executemany(sql, params)
            sql = _SQLITE_MOVEMENT
            params = [
                (
                    x.store_id,
                    x.sku,
                    x.kind.value,
                    x.quantity,
                    _sqlite_stamp(x.occurred_at),
                    x.reason,
                    x.reference,
                    x.actor_id,
                )
                for x in sales
            ]
            driver.executemany(sql, params)
            return res
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _driver_error(conn, exc, sql, params) from exc

    @translated("expiring reservations")
    def expire(self, *, now: datetime) -> Sequence[Reservation]:
        """Expire every active reservation whose ``expires_at`` is at or before ``now``.

        On PostgreSQL the due reservations are locked in key order with ``FOR UPDATE SKIP
        LOCKED``: concurrent sweeps never deadlock on each other, and a reservation that another
        transaction is committing or releasing right now is left to that transaction (a later
        sweep expires it if it is still active then).
        """
        stmt = (
            select(t.reservations.c.key)
            .where(_DUE, t.reservations.c.expires_at <= now)
            .order_by(t.reservations.c.key)
        )
        if self._uow.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        due = [str(r.key) for r in self._conn.execute(stmt)]
        if not due:
            return []
        moved = self._transition(due, ReservationStatus.EXPIRED)
        return sorted(self._unhold(moved, ReservationStatus.EXPIRED), key=lambda r: r.key)


def hold_now(
    storage: SqlStorage, reservation: Reservation
) -> tuple[Reservation, bool, list[StockLevel]]:
    """Reserve in a transaction of its own: one round trip to PostgreSQL when it holds.

    The same hold as :meth:`SqlStockRepository.hold` (every line or none, idempotent by key,
    rows locked in sorted ``(store, sku)`` order, the levels after the hold returned), for a
    caller whose whole transaction is this one reservation (a checkout service holding stock
    before it takes payment, a benchmark). On PostgreSQL the statement runs in autocommit: no
    ``BEGIN`` and ``COMMIT`` round trips. Its connection is the storage's one parked autocommit
    connection (kept outside the pool, no checkout) when no other thread is using it, else a
    pooled one. It is atomic by itself: a short line makes the statement fail, so nothing is
    written. A replay and a short reservation cost one more read. Transient failures
    (deadlock, lost connection) are retried as :meth:`SqlStorage.run_in_transaction` retries
    them. On SQLite this is ``storage.run_in_transaction(lambda uow: uow.stock.hold(reservation))``.

    Args:
        storage: The storage (its engine, pool and retry policy are used).
        reservation: What to hold.

    Returns:
        ``(reservation, replayed, levels)`` as :meth:`SqlStockRepository.hold` returns them.

    Raises:
        InsufficientStockError: ``stock.insufficient``; nothing was held.
        ConflictError: ``stock.reservation_conflict`` when the key holds other lines.
        TransientStorageError: ``storage.retries_exhausted`` when the database stayed busy.
    """
    if storage.dialect != "postgresql":
        return storage.run_in_transaction(lambda uow: _hold_in(uow, reservation))
    policy = storage.retry
    attempt = 1
    while True:
        try:
            rows = _autocommit_rows(storage, *_pg_hold_call(reservation, abort=True))
            break
        except _ShortHoldError:
            levels = storage.run_in_transaction(
                lambda uow: uow.stock.snapshot(
                    skus={x.sku for x in reservation.lines},
                    store_ids={x.store_id for x in reservation.lines},
                ),
                read_only=True,
            )
            raise _short(reservation, levels, None) from None
        except sa_exc.DBAPIError as exc:
            if not is_transient(exc):
                raise translate(exc, action="reserving stock") from exc
            if attempt >= policy.attempts:
                raise retries_exhausted(attempt, nothing="held") from exc
            policy.sleep(policy.delay(attempt))
            attempt += 1
    claimed, held, _ = _pg_hold_rows(rows)
    if claimed:
        return _active(reservation), False, held
    return storage.run_in_transaction(lambda uow: _hold_in(uow, reservation))


def _hold_in(
    uow: SqlUnitOfWork, reservation: Reservation
) -> tuple[Reservation, bool, list[StockLevel]]:
    stock = uow.stock
    assert isinstance(stock, SqlStockRepository)
    return stock.hold(reservation)


class _ShortHoldError(Exception):
    """The abort variant of :data:`_PG_RESERVE` found a line short and wrote nothing."""


def _autocommit_rows(
    storage: SqlStorage, sql: str, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit on a psycopg connection; return its rows.

    The connection is the storage's parked autocommit connection when it is free (no pool
    checkout, no autocommit switches), else a pooled one switched to autocommit for the call.
    Driver errors are wrapped as SQLAlchemy wraps them (a lost connection is invalidated);
    the failed cast of a short abort-variant hold becomes :class:`_ShortHoldError`.
    """
    slot = storage._autocommit_slot
    parked = slot.take()
    proxied = storage.engine.raw_connection() if parked is None else parked
    driver: Any = proxied.dbapi_connection  # psycopg's own connection (no async adaption)
    lost = True  # until the statement ends normally or with a database error on a live link
    try:
        if parked is None:
            driver.autocommit = True
        try:
            with driver.cursor() as cursor:
                cursor.execute(sql, params, prepare=True)
                rows = list(cursor.fetchall())
            lost = False
            return rows
        finally:
            if parked is None and not driver.closed:
                driver.autocommit = False
    except storage.engine.dialect.loaded_dbapi.Error as exc:
        lost = storage.engine.dialect.is_disconnect(exc, driver, None)
        if not lost and getattr(exc, "sqlstate", None) == "22P02" and _SHORT_MARKER in str(exc):
            raise _ShortHoldError from exc
        if lost and parked is None:
            proxied.invalidate(exc)
        raise sa_exc.DBAPIError.instance(
            sql,
            dict(params),
            exc,
            storage.engine.dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
        ) from exc
    finally:
        if parked is None:
            proxied.close()
        else:
            slot.give_back(parked, lost=lost)


def _sale(res: Reservation, line: ReservationLine, *, at: datetime, actor_id: str) -> StockMovement:
    """The ledger movement of one committed reservation line."""
    return StockMovement(
        store_id=line.store_id,
        sku=line.sku,
        kind=MovementKind.SALE,
        quantity=-line.quantity,
        occurred_at=at,
        reason="reservation committed",
        reference=res.key,
        actor_id=actor_id,
    )


def _movement_values(movement: StockMovement) -> dict[str, Any]:
    return {
        "store_id": movement.store_id,
        "sku": movement.sku,
        "kind": movement.kind.value,
        "quantity": movement.quantity,
        "occurred_at": movement.occurred_at,
        "reason": movement.reason,
        "reference": movement.reference,
        "actor_id": movement.actor_id,
    }


# --- orders ----------------------------------------------------------------------------------


class SqlOrderRepository(_Repository):
    """Orders in SQL, unique per ``(channel, external_id)`` by a constraint."""

    @translated("adding an order")
    def add(self, order: Order, *, fingerprint: str) -> Order:
        """Insert ``order`` once per channel order number (see the port)."""
        fingerprint = check_id(fingerprint, "fingerprint")
        conn = self._conn
        dest = order.destination
        total = order.total
        stmt = (
            self._insert(t.orders)
            .values(
                id=order.id,
                channel=order.channel,
                external_id=order.external_id,
                fingerprint=fingerprint,
                status=order.status.value,
                dest_lat=None if dest is None else dest.lat,
                dest_lon=None if dest is None else dest.lon,
                pickup_store_id=order.pickup_store_id,
                member_id=order.member_id,
                created_at=order.created_at,
                total_minor=m.to_minor(total),
                currency=total.currency.value,
            )
            .on_conflict_do_nothing()
        )
        if self._inserted(stmt) == 0:
            known = conn.execute(
                select(t.orders.c.id, t.orders.c.fingerprint).where(
                    t.orders.c.channel == order.channel,
                    t.orders.c.external_id == order.external_id,
                )
            ).first()
            if known is None:
                raise ConflictError(
                    f"order id {order.id!r} is already used by another order",
                    code="order.duplicate_id",
                )
            if known.fingerprint == fingerprint:
                return self.get(known.id)
            raise ConflictError(
                f"order {order.external_id!r} from channel {order.channel!r} was already "
                "received with different content; send it under a new external id or as an "
                "explicit amendment",
                code="order.duplicate_conflict",
                details={"channel": order.channel, "external_id": order.external_id},
            )
        conn.execute(
            insert(t.order_lines),
            [
                {
                    "order_id": order.id,
                    "line_no": i,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price_minor": m.to_minor(line.unit_price),
                    "currency": line.unit_price.currency.value,
                }
                for i, line in enumerate(order.lines)
            ],
        )
        return order

    @translated("reading an order")
    def get(self, order_id: str) -> Order:
        """Return the order; ``order.not_found`` if unknown."""
        row = self._conn.execute(select(t.orders).where(t.orders.c.id == order_id)).first()
        if row is None:
            raise NotFoundError(f"order {order_id!r} does not exist", code="order.not_found")
        return self._order(row)

    def _order(self, row: Row[Any]) -> Order:
        lines = self._conn.execute(
            select(t.order_lines)
            .where(t.order_lines.c.order_id == row.id)
            .order_by(t.order_lines.c.line_no)
        )
        return Order(
            id=row.id,
            channel=row.channel,
            external_id=row.external_id,
            lines=tuple(
                OrderLine(
                    line.sku,
                    int(line.quantity),
                    m.from_minor(int(line.unit_price_minor), line.currency),
                )
                for line in lines
            ),
            destination=None if row.dest_lat is None else GeoPoint(row.dest_lat, row.dest_lon),
            pickup_store_id=row.pickup_store_id,
            member_id=row.member_id,
            status=OrderStatus(row.status),
            created_at=row.created_at,
        )

    @translated("finding an order")
    def find_by_external_id(self, channel: str, external_id: str) -> Order | None:
        """Return the order a channel knows by ``external_id``, or ``None``."""
        row = self._conn.execute(
            select(t.orders).where(
                t.orders.c.channel == channel, t.orders.c.external_id == external_id
            )
        ).first()
        return None if row is None else self._order(row)

    @translated("changing an order's status")
    def set_status(self, order_id: str, status: OrderStatus) -> Order:
        """Move the order to ``status`` if the status machine allows it."""
        conn = self._conn
        row = conn.execute(
            select(t.orders).where(t.orders.c.id == order_id).with_for_update()
        ).first()
        if row is None:
            raise NotFoundError(f"order {order_id!r} does not exist", code="order.not_found")
        changed = self._order(row).with_status(OrderStatus(status))
        conn.execute(
            update(t.orders)
            .where(t.orders.c.id == order_id, t.orders.c.status == row.status)
            .values(status=changed.status.value)
        )
        return changed


# --- members ---------------------------------------------------------------------------------


class SqlMemberRepository(_Repository):
    """Members in SQL with ``name`` and ``phone`` encrypted by the storage's :class:`Cipher`."""

    def _cipher(self) -> Cipher:
        return self._uow.cipher

    @translated("adding a member")
    def add(self, member: Member) -> None:
        """Insert a member; ``member.duplicate`` if the id exists."""
        cipher = self._cipher()
        stmt = (
            self._insert(t.members)
            .values(
                id=member.id,
                name_enc=cipher.encrypt(member.name, context=f"members:{member.id}:name"),
                phone_enc=cipher.encrypt(member.phone, context=f"members:{member.id}:phone"),
                tier=member.tier,
                home_store_id=member.home_store_id,
                joined_at=member.joined_at,
            )
            .on_conflict_do_nothing()
        )
        if self._inserted(stmt) == 0:
            raise ConflictError(f"member {member.id!r} already exists", code="member.duplicate")

    @translated("reading a member")
    def get(self, member_id: str) -> Member:
        """Return the member (decrypted); ``member.not_found`` if unknown."""
        row = self._conn.execute(select(t.members).where(t.members.c.id == member_id)).first()
        if row is None:
            raise NotFoundError(f"member {member_id!r} does not exist", code="member.not_found")
        cipher = self._cipher()
        return Member(
            id=row.id,
            name=cipher.decrypt(row.name_enc, context=f"members:{row.id}:name"),
            phone=cipher.decrypt(row.phone_enc, context=f"members:{row.id}:phone"),
            tier=row.tier,
            home_store_id=row.home_store_id,
            joined_at=row.joined_at,
        )
