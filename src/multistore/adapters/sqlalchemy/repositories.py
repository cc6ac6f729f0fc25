"""SQL repositories: rows mapped to and from the plain attrs domain values by hand.

Every write is a single statement whose ``WHERE`` clause or constraint decides, so the outcome is
right under any number of concurrent units of work:

* uniqueness (store ids, SKU codes, reservation keys, ``(channel, external_id)``, event ids) is
  ``INSERT ... ON CONFLICT DO NOTHING`` followed, when nothing was inserted, by a read of the row
  that won; never a read before the write;
* a reservation line is ``UPDATE stock_levels SET reserved = reserved + q WHERE ... AND
  on_hand - reserved - safety_buffer >= q``; lines go in sorted ``(store, sku)`` order so two
  reservations never lock the same rows in opposite orders;
* status changes (release, commit, expire, order status) are ``UPDATE ... WHERE status = old``.

A method that raises has written nothing: it either fails before writing, undoes its own rows
(reservations, whose rows it still holds locked), or works inside a savepoint.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    Table,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from multistore import money as m
from multistore._validation import check_id, check_non_negative_int
from multistore.adapters.sqlalchemy import tables as t
from multistore.adapters.sqlalchemy.cipher import Cipher
from multistore.adapters.sqlalchemy.errors import translating
from multistore.catalog.model import Product, Sku
from multistore.errors import ConflictError, InsufficientStockError, NotFoundError
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
    from multistore.adapters.sqlalchemy.storage import SqlUnitOfWork

__all__ = [
    "SqlMemberRepository",
    "SqlOrderRepository",
    "SqlProductRepository",
    "SqlStockRepository",
    "SqlStoreRepository",
    "dialect_insert",
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
            with translating(action):
                return fn(self, *args, **kwargs)

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


class SqlStoreRepository(_Repository):
    """Stores in SQL (see :class:`multistore.ports.storage.StoreRepository`)."""

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
        row = self._conn.execute(select(t.stores).where(t.stores.c.id == store_id)).first()
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
        row = self._conn.execute(select(t.skus).where(t.skus.c.code == code)).first()
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

    @translated("reserving stock")
    def reserve(self, reservation: Reservation) -> Reservation:
        """Hold every line or none; idempotent by key (see the port).

        First the key and its lines are claimed (``INSERT ... ON CONFLICT DO NOTHING``; one
        statement on PostgreSQL), so a duplicate key never touches stock. Then each line is one
        conditional UPDATE, in sorted ``(store, sku)`` order; the first that matches no row
        undoes this call's holds and its claim, and the reservation fails as a whole.
        """
        conn = self._conn
        key = reservation.key
        if not self._claim(reservation):
            existing = self.get_reservation(key)
            if existing.lines == reservation.lines:
                return existing
            raise ConflictError(
                f"reservation key {key!r} is already used for other lines; "
                "use a new key for a different hold",
                code="stock.reservation_conflict",
                details={"key": key},
            )
        held: list[ReservationLine] = []
        for line in reservation.lines:  # sorted (store, sku): the lock order
            params = {"s": line.store_id, "k": line.sku, "q": line.quantity}
            if conn.execute(_HOLD, params).rowcount != 1:
                self._unreserve(held)
                conn.execute(delete(t.reservations).where(t.reservations.c.key == key))
                raise self._insufficient(reservation, line)
            held.append(line)
        return Reservation(
            key=key,
            lines=reservation.lines,
            status=ReservationStatus.ACTIVE,
            created_at=reservation.created_at,
            expires_at=reservation.expires_at,
        )

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
        claimed = self._inserted(
            self._insert(t.reservations)
            .values(
                key=reservation.key,
                status=ReservationStatus.ACTIVE.value,
                created_at=reservation.created_at,
                expires_at=reservation.expires_at,
            )
            .on_conflict_do_nothing(index_elements=[t.reservations.c.key])
        )
        if claimed:
            conn.execute(
                insert(t.reservation_lines),
                [
                    {
                        "reservation_key": reservation.key,
                        "store_id": line.store_id,
                        "sku": line.sku,
                        "quantity": line.quantity,
                    }
                    for line in lines
                ],
            )
        return claimed > 0

    def _unreserve(self, lines: Sequence[ReservationLine]) -> None:
        for line in lines:
            self._conn.execute(_UNHOLD, {"s": line.store_id, "k": line.sku, "q": line.quantity})

    def _insufficient(self, reservation: Reservation, failed: ReservationLine) -> Exception:
        pairs = [(line.store_id, line.sku) for line in reservation.lines]
        levels = self.snapshot(
            skus={sku for _, sku in pairs}, store_ids={store for store, _ in pairs}
        )
        short: list[dict[str, object]] = []
        for line in reservation.lines:
            level = levels.get((line.store_id, line.sku), StockLevel(line.store_id, line.sku))
            if level.available < line.quantity or line is failed:
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

    @translated("reading a reservation")
    def get_reservation(self, key: str) -> Reservation:
        """Return a reservation; ``stock.reservation_not_found`` if unknown."""
        found = self._load_reservations([key])
        if not found:
            raise NotFoundError(
                f"reservation {key!r} does not exist", code="stock.reservation_not_found"
            )
        return found[0]

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
        if self._transition([key], ReservationStatus.RELEASED):
            return self._unhold([key], ReservationStatus.RELEASED)[0]
        res = self.get_reservation(key)
        if res.status is ReservationStatus.RELEASED:
            return res
        raise _closed(res, "released")

    @translated("committing a reservation")
    def commit(self, key: str, *, at: datetime, actor_id: str = "system") -> Reservation:
        """Turn an active reservation into sale movements (idempotent)."""
        if not self._transition([key], ReservationStatus.COMMITTED):
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
            sales.append(
                _movement_values(
                    StockMovement(
                        store_id=line.store_id,
                        sku=line.sku,
                        kind=MovementKind.SALE,
                        quantity=-q,
                        occurred_at=at,
                        reason="reservation committed",
                        reference=key,
                        actor_id=actor_id,
                    )
                )
            )
        conn.execute(insert(t.stock_movements), sales)
        return res

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
            .where(
                t.reservations.c.status == ReservationStatus.ACTIVE.value,
                t.reservations.c.expires_at.is_not(None),
                t.reservations.c.expires_at <= now,
            )
            .order_by(t.reservations.c.key)
        )
        if self._uow.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        due = [str(r.key) for r in self._conn.execute(stmt)]
        if not due:
            return []
        moved = self._transition(due, ReservationStatus.EXPIRED)
        return sorted(self._unhold(moved, ReservationStatus.EXPIRED), key=lambda r: r.key)


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
