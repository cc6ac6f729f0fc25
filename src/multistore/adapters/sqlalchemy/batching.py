"""Group commit for reservations: many threads' holds in one PostgreSQL transaction.

A :class:`HoldBatcher` is shared by the threads of one process. Each call of
:meth:`HoldBatcher.hold` has exactly the outcome :func:`~.repositories.hold_now` would have
(every line or none, idempotent by key, ``stock.insufficient`` with nothing written for a short
reservation), but the holds that arrive while a batch is being written are written together by
the next batch, so the per-statement and per-commit cost is shared by up to ``max_batch``
reservations.

Batching (leader/follower): a call that finds fewer than ``max_in_flight`` batches running
becomes a *leader* and writes at once, so a lone call waits for nobody. Calls arriving while
batches are running queue up; when a leader's own reservation is done, it hands leadership to
the oldest queued call, which writes everything queued (up to ``max_batch``, first come first
served) as the next batch. A batch never holds two requests with the same key: a second one
waits for the next batch, where it is a replay or a conflict as usual.

One batch is one transaction of two statements:

1. claim every key (``INSERT INTO reservations ... ON CONFLICT DO NOTHING``, keys in sorted
   order) and then lock and read every stock row the claimed reservations name, in sorted
   ``(store, sku)`` byte order (``SELECT ... ORDER BY ... COLLATE "C" FOR UPDATE``): the same
   lock order as :func:`hold_now` (key first, then rows), so a batch never holds a stock row
   while it waits for another transaction's key;
2. in Python, admit the claimed reservations in arrival order while every line of a
   reservation fits what the earlier admitted ones left (exactly as if they had run one after
   another, multi-line reservations included), then in one statement delete the claims of the
   short ones, insert the admitted lines, and add the summed holds to each row with one
   conditional ``UPDATE`` per row (the availability condition repeated); then ``COMMIT``.

The two statements travel in psycopg's pipeline mode, ``BEGIN`` with the first and ``COMMIT``
with the second: two round trips and one WAL flush per batch. Why not one statement: exact
admission in arrival order (a reservation that does not fit must not keep a later, smaller one
from holding, and a multi-line reservation holds all its rows or none) is a sequential scan
that SQL expresses only as a recursive query or a stored function; Python does it in
microseconds between the two round trips, without a function in the schema.

The rows written are exactly the rows :func:`hold_now` writes (``reservations`` and
``reservation_lines`` as in :mod:`.tables`), so commit, release and expiry treat batched
reservations like any other. A request whose key was already taken (a replay, a conflict, or a
key written concurrently by another transaction) is finished by :func:`hold_now` after its
batch, which reads the stored reservation and answers as it always does.

Transient failures (deadlock, serialization failure, lost connection) roll the batch back and
write it again, up to the storage's :class:`~.storage.RetryPolicy` attempts; after that every
waiter of the batch gets :class:`~multistore.errors.TransientStorageError`
(``storage.retries_exhausted``). Other database errors reach every waiter of the batch,
translated as usual. On SQLite (one writer at a time) :meth:`HoldBatcher.hold` is simply
:func:`hold_now`.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from multistore.adapters.sqlalchemy.errors import is_transient, retries_exhausted, translate
from multistore.adapters.sqlalchemy.repositories import _active, _short, _utc, hold_now
from multistore.errors import StorageError, ValidationError
from multistore.inventory.model import Reservation, StockLevel

if TYPE_CHECKING:
    from multistore.adapters.sqlalchemy.storage import SqlStorage

__all__ = ["HoldBatcher"]

Pair = tuple[str, str]
HoldResult = tuple[Reservation, bool, list[StockLevel]]
_Outcome = HoldResult | BaseException | None
"""A request's result, its error, or ``None``: its key was taken, :func:`hold_now` answers."""

_CLAIM_AND_LOCK = """
    WITH wanted AS (
        SELECT w.key, w.created_at, w.expires_at
        FROM unnest(CAST(%(keys)s AS text[]), CAST(%(created)s AS timestamptz[]),
                    CAST(%(expires)s AS timestamptz[])) AS w (key, created_at, expires_at)
    ),
    claimed AS (
        INSERT INTO reservations (key, status, created_at, expires_at)
        SELECT wanted.key, 'active', wanted.created_at, wanted.expires_at
        FROM wanted
        ORDER BY wanted.key COLLATE "C"
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    ),
    locked AS (
        SELECT l.store_id, l.sku, l.on_hand, l.reserved, l.safety_buffer
        FROM stock_levels AS l
        WHERE (SELECT count(*) FROM claimed) > 0
          AND (l.store_id, l.sku) IN (
              SELECT p.store_id, p.sku
              FROM unnest(CAST(%(stores)s AS text[]), CAST(%(skus)s AS text[]))
                AS p (store_id, sku)
          )
        ORDER BY l.store_id COLLATE "C", l.sku COLLATE "C"
        FOR UPDATE OF l
    )
    SELECT 'claimed' AS kind, key AS store_id, NULL AS sku, NULL::bigint AS on_hand,
           NULL::bigint AS reserved, NULL::bigint AS safety_buffer
    FROM claimed
    UNION ALL
    SELECT 'seen', store_id, sku, on_hand, reserved, safety_buffer FROM locked
"""
"""Claim every key (sorted), then lock and read the named stock rows in sorted order.

``(SELECT count(*) FROM claimed)`` makes the whole claim run before the first row is locked;
when no key was claimed no row is locked at all.
"""

_APPLY = """
    WITH dropped AS (
        DELETE FROM reservations WHERE key = ANY(CAST(%(rejected)s AS text[]))
    ),
    stored AS (
        INSERT INTO reservation_lines (reservation_key, store_id, sku, quantity)
        SELECT x.key, x.store_id, x.sku, x.quantity
        FROM unnest(CAST(%(line_keys)s AS text[]), CAST(%(line_stores)s AS text[]),
                    CAST(%(line_skus)s AS text[]), CAST(%(line_quantities)s AS bigint[]))
          AS x (key, store_id, sku, quantity)
    ),
    held AS (
        UPDATE stock_levels AS l
        SET reserved = l.reserved + h.quantity
        FROM unnest(CAST(%(stores)s AS text[]), CAST(%(skus)s AS text[]),
                    CAST(%(quantities)s AS bigint[])) AS h (store_id, sku, quantity)
        WHERE l.store_id = h.store_id AND l.sku = h.sku
          AND l.on_hand - l.reserved - l.safety_buffer >= h.quantity
        RETURNING l.store_id
    )
    SELECT CASE WHEN count(*) = cardinality(CAST(%(stores)s AS text[])) THEN 0
                ELSE CAST('multistore:batch-short:' || count(*) AS integer) END
    FROM held
"""
"""Drop the short claims, store the admitted lines and add each row's summed holds.

A dropped claim has no lines (this batch claimed it and stores lines only for the admitted
ones), so deleting its ``reservations`` row is the whole undo (``reservation_lines`` has no
foreign key that would cascade).

Every row was locked and checked by the first statement, so every row's ``UPDATE`` matches; if
one ever did not, the failed cast aborts the statement and the transaction writes nothing.
"""


class _Request:
    """One caller's reservation and, once its batch is written, its outcome."""

    __slots__ = ("done", "lead", "outcome_", "reservation", "wake")

    def __init__(self, reservation: Reservation) -> None:
        self.reservation = reservation
        self.wake = threading.Event()
        self.done = False
        self.lead = False
        self.outcome_: _Outcome = None

    def finish(self, outcome: _Outcome) -> None:
        self.outcome_ = outcome
        self.done = True
        self.wake.set()

    def outcome(self) -> HoldResult | None:
        """The result, ``None`` if :func:`hold_now` must answer; raises the request's error."""
        if isinstance(self.outcome_, BaseException):
            raise self.outcome_
        return self.outcome_


class _RedoBatchError(Exception):
    """The batch must be written again (a transient database failure)."""

    def __init__(self, cause: sa_exc.StatementError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class HoldBatcher:
    """Writes the holds of many concurrent callers together, one transaction per batch.

    Share one batcher between the threads that reserve on one :class:`SqlStorage`; see the
    module documentation for how batches form and what one batch writes.

    Args:
        storage: The storage whose engine, pool and retry policy the batches use.
        max_batch: Most reservations written by one transaction.
        max_in_flight: Most batches written at the same time (each on its own pooled
            connection); a call that finds fewer running starts a batch at once.

    Raises:
        ValidationError: ``storage.invalid_batch`` when a bound is not an int >= 1.

    Examples:
        >>> from multistore.adapters.sqlalchemy import create_storage
        >>> from multistore.inventory.model import Reservation, ReservationLine
        >>> storage = create_storage("sqlite://")
        >>> batcher = HoldBatcher(storage)
        >>> try:
        ...     batcher.hold(Reservation(key="R1", lines=(ReservationLine("S1", "K1", 1),)))
        ... except Exception as exc:
        ...     print(exc.code)
        stock.insufficient
        >>> storage.close()
    """

    def __init__(self, storage: SqlStorage, *, max_batch: int = 64, max_in_flight: int = 1) -> None:
        for name, value in (("max_batch", max_batch), ("max_in_flight", max_in_flight)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(
                    f"{name} must be an int >= 1, got {value!r}", code="storage.invalid_batch"
                )
        self._storage = storage
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._leaders = 0
        self.batches = 0
        """How many batches were written (for tests and benchmarks)."""
        self.batched = 0
        """How many requests those batches carried."""

    @property
    def pending(self) -> int:
        """How many calls are waiting for a batch to take them."""
        with self._lock:
            return len(self._queue)

    def hold(self, reservation: Reservation) -> HoldResult:
        """Reserve every line of ``reservation`` or none, written with concurrent callers' holds.

        Args:
            reservation: What to hold (its key makes the call idempotent).

        Returns:
            ``(reservation, replayed, levels)`` as :func:`hold_now` returns them: the stored
            reservation, ``True`` when the key was already held with the same lines (nothing
            more was held), and the levels of its rows right after its own hold, in sorted
            ``(store, sku)`` order (empty on a replay).

        Raises:
            InsufficientStockError: ``stock.insufficient``; nothing was held for it.
            ConflictError: ``stock.reservation_conflict`` when the key holds other lines.
            TransientStorageError: ``storage.retries_exhausted`` when the database stayed busy.
        """
        if self._storage.dialect != "postgresql":
            return hold_now(self._storage, reservation)
        request = _Request(reservation)
        with self._lock:
            self._queue.append(request)
            leading = self._leaders < self._max_in_flight
            if leading:
                self._leaders += 1
        if leading:
            self._lead(request)
        while not request.done:
            request.wake.wait()
            with self._lock:
                request.wake.clear()
                promoted, request.lead = request.lead, False
            if promoted:
                self._lead(request)
        result = request.outcome()
        if result is None:  # the key was taken: read it and answer as hold_now does
            return hold_now(self._storage, reservation)
        return result

    def _lead(self, me: _Request) -> None:
        """Write batches until ``me`` is done, then hand leadership to the oldest waiter.

        A leader whose own request is being written by another leader leaves at once.
        """
        try:
            while not me.done:
                with self._lock:
                    batch = self._take()
                    if not batch:
                        self._leaders -= 1
                        return
                self._write(batch)
        except BaseException:  # e.g. KeyboardInterrupt: the queued calls still need a leader
            self._hand_over()
            raise
        self._hand_over()

    def _hand_over(self) -> None:
        """Make the oldest queued request a leader, or give up this leader's place."""
        with self._lock:
            for waiting in self._queue:
                if not waiting.lead:
                    waiting.lead = True
                    waiting.wake.set()
                    return
            self._leaders -= 1

    def _take(self) -> list[_Request]:
        """Remove up to ``max_batch`` queued requests with distinct keys, oldest first."""
        batch: list[_Request] = []
        keys: set[str] = set()
        kept: deque[_Request] = deque()
        queue = self._queue
        while queue and len(batch) < self._max_batch:
            request = queue.popleft()
            key = request.reservation.key
            if key in keys:
                kept.append(request)
            else:
                keys.add(key)
                batch.append(request)
        kept.extend(queue)
        self._queue = kept
        if batch:
            self.batches += 1
            self.batched += len(batch)
        return batch

    def _write(self, batch: list[_Request]) -> None:
        """Write one batch (retrying transient failures) and finish every request in it."""
        policy = self._storage.retry
        attempt = 1
        while True:
            try:
                outcomes = self._attempt([r.reservation for r in batch])
                break
            except _RedoBatchError as redo:
                if attempt >= policy.attempts:
                    for request in batch:
                        error = retries_exhausted(attempt, nothing="held")
                        error.__cause__ = redo.cause
                        request.finish(error)
                    return
                policy.sleep(policy.delay(attempt))
                attempt += 1
            except BaseException as exc:  # every waiter must wake up, whatever happened
                for request in batch:
                    request.finish(exc)
                if isinstance(exc, Exception):
                    return
                raise
        for request, outcome in zip(batch, outcomes, strict=True):
            request.finish(outcome)

    def _attempt(self, reservations: Sequence[Reservation]) -> list[_Outcome]:
        """Write one batch in one transaction; return each reservation's outcome."""
        engine = self._storage.engine
        dbapi = engine.dialect.loaded_dbapi
        proxied = engine.raw_connection()
        sql = _CLAIM_AND_LOCK
        params: dict[str, Any] = {}
        try:
            driver: Any = proxied.driver_connection
            try:
                # pipeline: BEGIN travels with the first statement, COMMIT with the second
                with driver.pipeline(), driver.cursor() as cursor:
                    params = _claim_params(reservations)
                    cursor.execute(sql, params, prepare=True)
                    rows = cursor.fetchall()
                    claimed = {str(r[1]) for r in rows if r[0] == "claimed"}
                    levels = {
                        (str(r[1]), str(r[2])): StockLevel(
                            r[1],
                            r[2],
                            on_hand=int(r[3]),
                            reserved=int(r[4]),
                            safety_buffer=int(r[5]),
                        )
                        for r in rows
                        if r[0] == "seen"
                    }
                    plan = _admit(reservations, claimed, levels)
                    if plan.rejected or plan.holds:
                        sql, params = _APPLY, plan.params()
                        cursor.execute(sql, params, prepare=True)
                    driver.commit()
            except BaseException:
                if not driver.closed:
                    # if this fails too, the pool's reset on return discards the connection
                    with contextlib.suppress(dbapi.Error):
                        driver.rollback()
                raise
        except dbapi.Error as exc:
            if getattr(exc, "sqlstate", None) == "22P02" and _BATCH_SHORT in str(exc):
                raise StorageError(
                    "a batch of holds found a stock row it had locked changed; nothing was "
                    "held, retry the call",
                    code="storage.error",
                ) from exc
            lost = engine.dialect.is_disconnect(exc, proxied.driver_connection, None)
            if lost:
                proxied.invalidate(exc)
            wrapped = sa_exc.DBAPIError.instance(
                sql, dict(params), exc, dbapi.Error, connection_invalidated=lost
            )
            if is_transient(wrapped):
                raise _RedoBatchError(wrapped) from exc
            raise translate(wrapped, action="reserving stock") from exc
        finally:
            proxied.close()
        return plan.outcomes


def _claim_params(reservations: Sequence[Reservation]) -> dict[str, Any]:
    pairs = sorted({(x.store_id, x.sku) for r in reservations for x in r.lines})
    return {
        "keys": [r.key for r in reservations],
        "created": [_utc(r.created_at) for r in reservations],
        "expires": [_utc(r.expires_at) for r in reservations],
        "stores": [s for s, _ in pairs],
        "skus": [k for _, k in pairs],
    }


_BATCH_SHORT = "multistore:batch-short:"


class _Plan:
    """Which claimed reservations hold, what each row gets, and every request's outcome."""

    def __init__(self) -> None:
        self.rejected: list[str] = []
        self.admitted: list[Reservation] = []
        self.holds: dict[Pair, int] = defaultdict(int)
        self.outcomes: list[_Outcome] = []

    def params(self) -> dict[str, Any]:
        lines = [(r.key, x) for r in self.admitted for x in r.lines]
        pairs = sorted(self.holds)
        return {
            "rejected": self.rejected,
            "line_keys": [key for key, _ in lines],
            "line_stores": [x.store_id for _, x in lines],
            "line_skus": [x.sku for _, x in lines],
            "line_quantities": [x.quantity for _, x in lines],
            "stores": [s for s, _ in pairs],
            "skus": [k for _, k in pairs],
            "quantities": [self.holds[p] for p in pairs],
        }


def _admit(
    reservations: Sequence[Reservation],
    claimed: set[str],
    levels: Mapping[Pair, StockLevel],
) -> _Plan:
    """Admit the claimed reservations in arrival order while every line fits.

    ``levels`` are the locked rows as read; each admitted reservation sees the rows after the
    holds admitted before it, exactly as if the reservations had run one after another.
    """
    plan = _Plan()
    now = dict(levels)
    for reservation in reservations:
        if reservation.key not in claimed:
            plan.outcomes.append(None)
            continue
        fits = all(
            (level := now.get((x.store_id, x.sku))) is not None and level.available >= x.quantity
            for x in reservation.lines
        )
        if not fits:
            plan.rejected.append(reservation.key)
            plan.outcomes.append(_short(reservation, now, None))
            continue
        after: list[StockLevel] = []
        for x in reservation.lines:
            pair = (x.store_id, x.sku)
            level = now[pair]
            now[pair] = StockLevel(
                x.store_id,
                x.sku,
                on_hand=level.on_hand,
                reserved=level.reserved + x.quantity,
                safety_buffer=level.safety_buffer,
            )
            after.append(now[pair])
            plan.holds[pair] += x.quantity
        plan.admitted.append(reservation)
        plan.outcomes.append((_active(reservation), False, after))
    return plan
