"""Member use cases: register a customer once for every store and channel."""

from __future__ import annotations

from multistore.members.model import Member
from multistore.ports.security import Actor, Scope
from multistore.ports.storage import UnitOfWork
from multistore.services.context import Outcome, ServiceContext
from multistore.services.scopes import store_scope

__all__ = ["MemberService"]


class MemberService:
    """Members (``ms.members``). Action: ``members.register`` (in the home store, or at HQ)."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def register(
        self,
        *,
        actor: Actor,
        name: str,
        phone: str,
        member_id: str | None = None,
        tier: str = "standard",
        home_store_id: str | None = None,
    ) -> Member:
        """Register a member; the id is generated unless given.

        The audit log and the ``member.registered`` event carry the id, tier and home store,
        never the name or phone.

        Raises:
            ValidationError: ``member.invalid_phone`` or an empty name (nothing is written).
            NotFoundError: ``store.not_found`` for an unknown home store.
            ConflictError: ``member.duplicate`` when ``member_id`` exists.
            PermissionDeniedError: when the actor may not register members there.
        """
        member = Member(
            id=member_id if member_id is not None else self._ctx.ids.new_id("mem"),
            name=name,
            phone=phone,
            tier=tier,
            home_store_id=home_store_id,
            joined_at=self._ctx.clock.now(),
        )

        def work(uow: UnitOfWork) -> Outcome[Member]:
            uow.members.add(member)
            facts = {"member_id": member.id, "tier": tier, "home_store_id": home_store_id}
            return Outcome(member, [("member.registered", f"member:{member.id}", facts)], facts)

        return self._ctx.run(
            actor=actor,
            action="members.register",
            target=f"member:{member.id}",
            scopes=lambda uow: [
                store_scope(uow, home_store_id) if home_store_id is not None else Scope.hq()
            ],
            work=work,
        )

    def get(self, *, member_id: str) -> Member:
        """Return a member.

        Raises:
            NotFoundError: ``member.not_found``.
        """
        return self._ctx.read(lambda uow: uow.members.get(member_id))
