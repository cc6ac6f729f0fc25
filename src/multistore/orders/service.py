"""Order use cases: take in channel orders exactly once, and move them through their statuses."""

from __future__ import annotations

from collections.abc import Sequence

from multistore import money as m
from multistore._validation import check_enum, check_id
from multistore.errors import ValidationError
from multistore.geo import GeoPoint
from multistore.orders.fingerprint import order_fingerprint
from multistore.orders.model import Order, OrderLine, OrderStatus
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.services.context import Outcome, ServiceContext
from multistore.services.inputs import as_point
from multistore.services.scopes import store_scope

__all__ = ["OrderService"]


def _order_payload(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status.value,
        "total_minor": m.to_minor(order.total),
        "currency": order.total.currency.value,
        "lines": [
            {"sku": x.sku, "quantity": x.quantity, "unit_price_minor": m.to_minor(x.unit_price)}
            for x in order.lines
        ],
        "pickup_store_id": order.pickup_store_id,
        "member_id": order.member_id,
    }


def _scope(uow: UnitOfWork, order: Order) -> Scope:
    if order.pickup_store_id is not None:
        return store_scope(uow, order.pickup_store_id)
    return Scope.hq()


class OrderService:
    """Orders from every channel (``ms.orders``).

    Actions: ``orders.ingest`` and ``orders.set_status`` -- in the pickup store for pickup
    orders, at headquarters for delivery orders (the store is chosen later by routing).
    """

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def ingest(
        self,
        *,
        actor: Actor,
        channel: str,
        external_id: str,
        lines: Sequence[OrderLine],
        destination: GeoPoint | tuple[float, float] | None = None,
        pickup_store_id: str | None = None,
        member_id: str | None = None,
    ) -> Order:
        """Take in an order from a channel, once per ``(channel, external_id)``.

        A retry with the same content returns the order stored the first time (same id, no new
        event); the same external id with different content is refused.

        Args:
            actor: Who acts (usually the channel integration's system actor).
            channel: Channel code (``"wechat_mini"``).
            external_id: The channel's order number.
            lines: The order lines (one per SKU, one currency).
            destination: Delivery point (``GeoPoint`` or ``(lat, lon)``), or ``None`` for pickup.
            pickup_store_id: Store where the customer collects (must exist).
            member_id: The ordering member, if known.

        Returns:
            The stored order.

        Raises:
            ValidationError: for bad lines, ids or coordinates (nothing is written).
            CurrencyMismatchError: for lines in different currencies.
            NotFoundError: ``store.not_found`` for an unknown pickup store,
                ``catalog.sku_not_found`` for an unknown SKU, ``member.not_found`` for an
                unknown member.
            ConflictError: ``order.duplicate_conflict`` when the external id was already
                received with other content.
            PermissionDeniedError: when the actor may not take in orders there.
        """
        for i, line in enumerate(lines):
            if not isinstance(line, OrderLine):
                raise ValidationError(
                    f"line #{i} must be an OrderLine(sku, quantity, unit_price), got "
                    f"{type(line).__name__}",
                    code="validation.invalid",
                )
        point = None if destination is None else as_point(destination, "destination")
        draft = Order(
            id=self._ctx.ids.new_id("ord"),
            channel=channel,
            external_id=external_id,
            lines=tuple(lines),
            destination=point,
            pickup_store_id=pickup_store_id,
            member_id=member_id,
            created_at=self._ctx.clock.now(),
        )
        fingerprint = order_fingerprint(draft)

        def work(uow: UnitOfWork) -> Outcome[Order]:
            for line in draft.lines:
                uow.products.get_sku(line.sku)
            if draft.member_id is not None:
                uow.members.get(draft.member_id)
            stored = uow.orders.add(draft, fingerprint=fingerprint)
            if stored.id != draft.id:
                return Outcome(stored, (), {"replayed": True, "order_id": stored.id})
            return Outcome(
                stored,
                [("order.received", f"order:{stored.id}", _order_payload(stored))],
                {"order_id": stored.id, "fingerprint": fingerprint},
            )

        return self._ctx.run(
            actor=actor,
            action="orders.ingest",
            target=f"order:{draft.channel}/{draft.external_id}",
            scopes=lambda uow: [_scope(uow, draft)],
            work=work,
        )

    def set_status(self, *, actor: Actor, order_id: str, status: OrderStatus | str) -> Order:
        """Move an order along its status machine (pending -> accepted -> ... -> delivered).

        Raises:
            ValidationError: ``validation.invalid_choice`` for an unknown status.
            NotFoundError: ``order.not_found``.
            ConflictError: ``order.invalid_transition`` when the machine forbids the move.
            PermissionDeniedError: when the actor may not change this order.
        """
        order_id = check_id(order_id, "order_id")
        target = check_enum(OrderStatus, status, "status")

        def work(uow: UnitOfWork) -> Outcome[Order]:
            before = uow.orders.get(order_id)
            after = uow.orders.set_status(order_id, target)
            payload = {**_order_payload(after), "from": before.status.value}
            return Outcome(
                after,
                [("order.status_changed", f"order:{order_id}", payload)],
                {"from": before.status.value, "to": target.value},
            )

        return self._ctx.run(
            actor=actor,
            action="orders.set_status",
            target=f"order:{order_id}",
            scopes=lambda uow: [_scope(uow, uow.orders.get(order_id))],
            work=work,
        )

    def get(self, *, order_id: str) -> Order:
        """Return an order.

        Raises:
            NotFoundError: ``order.not_found``.
        """
        return self._ctx.read(lambda uow: uow.orders.get(order_id))

    def find(self, *, channel: str, external_id: str) -> Order | None:
        """Return the order a channel knows by ``external_id``, or ``None``."""
        return self._ctx.read(lambda uow: uow.orders.find_by_external_id(channel, external_id))
