"""Store use cases: open, change, suspend or close stores, and look them up."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from multistore._validation import check_enum
from multistore.errors import ValidationError
from multistore.geo import GeoPoint
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.services.context import Outcome, ServiceContext
from multistore.services.inputs import as_point
from multistore.services.scopes import store_scope
from multistore.stores.model import Address, OpeningHours, Store, StoreStatus

__all__ = ["StoreService"]


def _event(store: Store) -> dict[str, object]:
    return {
        "store_id": store.id,
        "region": store.region,
        "format": store.format,
        "status": store.status.value,
    }


class StoreService:
    """Opens and maintains the chain's stores (``ms.stores``).

    Actions: ``stores.create`` (in the store's region), ``stores.update`` (in the store),
    ``stores.set_status`` (in the store).
    """

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def create(
        self,
        *,
        actor: Actor,
        store_id: str,
        name: str,
        region: str,
        format: str,  # noqa: A002 - the retail term (业态) used across the API
        address: Address,
        location: GeoPoint | tuple[float, float],
        opening_hours: OpeningHours | None = None,
        status: StoreStatus | str = StoreStatus.ACTIVE,
        phone: str = "",
        delivers: bool = True,
        pickup: bool = True,
    ) -> Store:
        """Open a new store.

        Args:
            actor: Who acts; needs ``stores.create`` in the region.
            store_id: The chain's own store id (``"SH-001"``).
            name: Display name.
            region: Region code (``"east"``).
            format: Business format (``"supermarket"``).
            address: Postal address.
            location: A :class:`GeoPoint` or a ``(lat, lon)`` pair.
            opening_hours: Weekly timetable (none: never open).
            status: Initial status (``active`` by default).
            phone: Store phone number.
            delivers: Whether it ships to customers.
            pickup: Whether customers may collect here.

        Returns:
            The stored :class:`Store`.

        Raises:
            ValidationError: for bad fields (nothing is written).
            ConflictError: ``store.duplicate`` when the id exists.
            PermissionDeniedError: when the actor may not create stores in the region.

        Examples:
            >>> ms.stores.create(actor=SYSTEM_ACTOR, store_id="SH-001", ...)  # doctest: +SKIP
        """
        store = Store(
            id=store_id,
            name=name,
            region=region,
            format=format,
            address=address,
            location=as_point(location),
            opening_hours=opening_hours if opening_hours is not None else OpeningHours(),
            status=status,
            phone=phone,
            delivers=delivers,
            pickup=pickup,
        )
        return self.add(actor=actor, store=store)

    def add(self, *, actor: Actor, store: Store) -> Store:
        """Open a store given as a ready :class:`Store` value (see :meth:`create`)."""
        if not isinstance(store, Store):
            raise ValidationError("store must be a Store", code="validation.invalid")

        def work(uow: UnitOfWork) -> Outcome[Store]:
            uow.stores.add(store)
            return Outcome(store, [("store.created", f"store:{store.id}", _event(store))])

        return self._ctx.run(
            actor=actor,
            action="stores.create",
            target=f"store:{store.id}",
            scopes=lambda uow: [Scope.of_region(store.region)],
            work=work,
        )

    def update(
        self,
        *,
        actor: Actor,
        store_id: str,
        name: str | None = None,
        format: str | None = None,  # noqa: A002 - the retail term (业态) used across the API
        address: Address | None = None,
        location: GeoPoint | tuple[float, float] | None = None,
        opening_hours: OpeningHours | None = None,
        phone: str | None = None,
        delivers: bool | None = None,
        pickup: bool | None = None,
    ) -> Store:
        """Change some fields of a store; fields left ``None`` keep their value.

        Moving a store to another region or changing its status are separate decisions
        (:meth:`set_status`; re-create the store for a new region).

        Raises:
            NotFoundError: ``store.not_found``.
            ValidationError: for bad new values (nothing is written).
            PermissionDeniedError: when the actor may not update this store.
        """
        changes: dict[str, object] = {
            k: v
            for k, v in {
                "name": name,
                "format": format,
                "address": address,
                "location": None if location is None else as_point(location),
                "opening_hours": opening_hours,
                "phone": phone,
                "delivers": delivers,
                "pickup": pickup,
            }.items()
            if v is not None
        }

        def work(uow: UnitOfWork) -> Outcome[Store]:
            changed = attrs.evolve(uow.stores.get(store_id), **changes)  # type: ignore[arg-type]
            uow.stores.update(changed)
            return Outcome(
                changed,
                [
                    (
                        "store.updated",
                        f"store:{store_id}",
                        {**_event(changed), "fields": sorted(changes)},
                    )
                ],
                {"fields": sorted(changes)},
            )

        return self._ctx.run(
            actor=actor,
            action="stores.update",
            target=f"store:{store_id}",
            scopes=lambda uow: [store_scope(uow, store_id)],
            work=work,
        )

    def set_status(self, *, actor: Actor, store_id: str, status: StoreStatus | str) -> Store:
        """Activate, suspend or close a store.

        Raises:
            NotFoundError: ``store.not_found``.
            ValidationError: ``validation.invalid_choice`` for an unknown status.
            PermissionDeniedError: when the actor may not change this store's status.
        """
        target_status = _status(status)

        def work(uow: UnitOfWork) -> Outcome[Store]:
            before = uow.stores.get(store_id)
            changed = attrs.evolve(before, status=target_status)
            uow.stores.update(changed)
            return Outcome(
                changed,
                [("store.status_changed", f"store:{store_id}", _event(changed))],
                {"from": before.status.value, "to": target_status.value},
            )

        return self._ctx.run(
            actor=actor,
            action="stores.set_status",
            target=f"store:{store_id}",
            scopes=lambda uow: [store_scope(uow, store_id)],
            work=work,
        )

    def get(self, *, store_id: str) -> Store:
        """Return one store.

        Raises:
            NotFoundError: ``store.not_found``.
        """
        return self._ctx.read(lambda uow: uow.stores.get(store_id))

    def list(
        self,
        *,
        region: str | None = None,
        format: str | None = None,  # noqa: A002 - the retail term (业态) used across the API
        status: StoreStatus | str | None = None,
    ) -> Sequence[Store]:
        """Return the stores matching every given filter, sorted by id."""
        wanted = None if status is None else _status(status)
        return self._ctx.read(
            lambda uow: list(uow.stores.list(region=region, format=format, status=wanted))
        )


def _status(value: StoreStatus | str) -> StoreStatus:
    return check_enum(StoreStatus, value, "store.status")
