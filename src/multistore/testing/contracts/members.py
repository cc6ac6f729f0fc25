"""Contract of :class:`multistore.ports.storage.MemberRepository`."""

from __future__ import annotations

import pytest

from multistore.errors import ConflictError, NotFoundError
from multistore.ports.storage import UnitOfWorkFactory
from multistore.testing.builders import sample_member
from multistore.testing.contracts._base import ContractBase

__all__ = ["MemberRepositoryContract"]


class MemberRepositoryContract(ContractBase):
    """Members round-trip exactly (personal fields included) and ids are unique."""

    def test_add_then_get_round_trips(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Add then get round trips."""
        member = sample_member(f"M-{uid}", phone="+8613900001111", name="李四")
        with uow_factory() as uow:
            uow.members.add(member)
            uow.commit()
        with uow_factory() as uow:
            assert member == uow.members.get(member.id)

    def test_duplicate_is_a_conflict(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Duplicate is a conflict."""
        with uow_factory() as uow:
            uow.members.add(sample_member(f"M-{uid}"))
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConflictError) as info:
            uow.members.add(sample_member(f"M-{uid}", name="Someone else"))
        assert info.value.code == "member.duplicate"

    def test_unknown_is_not_found(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Unknown is not found."""
        with uow_factory() as uow, pytest.raises(NotFoundError) as info:
            uow.members.get(f"M-{uid}")
        assert info.value.code == "member.not_found"
