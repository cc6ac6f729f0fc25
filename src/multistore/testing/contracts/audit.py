"""Contract of :class:`multistore.ports.security.AuditLog`."""

from __future__ import annotations

from datetime import timedelta

from multistore.ports.storage import UnitOfWorkFactory
from multistore.security.audit_chain import verify_chain
from multistore.testing.builders import T0
from multistore.testing.contracts._base import ContractBase

__all__ = ["AuditLogContract"]


class AuditLogContract(ContractBase):
    """The log is append-only, gap-free and hash-chained.

    Hashes follow :mod:`multistore.security.audit_chain`, so :func:`verify_chain` checks them.
    """

    def _append(
        self, factory: UnitOfWorkFactory, uid: str, n: int, *, commit: bool = True
    ) -> list[int]:
        with factory() as uow:
            seqs = [
                uow.audit.append(
                    occurred_at=T0 + timedelta(seconds=i),
                    actor_id=f"A-{uid}",
                    action="stores.create",
                    target=f"store:S-{uid}-{i}",
                    outcome="ok",
                    details={"i": i, "name": "南京路店", "tags": ["a", "b"]},
                ).sequence
                for i in range(n)
            ]
            if commit:
                uow.commit()
        return seqs

    def test_sequences_are_gap_free_even_after_a_rollback(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Sequences are gap free even after a rollback."""
        first = self._append(uow_factory, uid, 3)
        self._append(uow_factory, uid, 2, commit=False)
        second = self._append(uow_factory, uid, 2)
        assert [first[0], first[0] + 1, first[0] + 2] == first
        assert [first[-1] + 1, first[-1] + 2] == second

    def test_entries_read_back_exactly_and_the_chain_verifies(
        self, uow_factory: UnitOfWorkFactory, uid: str
    ) -> None:
        """Entries read back exactly and the chain verifies."""
        with uow_factory() as uow:
            appended = [
                uow.audit.append(
                    occurred_at=T0,
                    actor_id=f"A-{uid}",
                    action="inventory.reserve",
                    target=f"reservation:R-{uid}",
                    outcome=outcome,
                    details={"lines": 2},
                )
                for outcome in ("ok", "denied")
            ]
            uow.commit()
        start = appended[0].sequence
        with uow_factory() as uow:
            stored = list(uow.audit.entries(since_sequence=start - 1, limit=2))
            previous = list(uow.audit.entries(since_sequence=start - 2, limit=1))
        assert appended == stored
        assert verify_chain(stored)
        if start > 1:
            assert previous[0].hash == stored[0].prev_hash
            assert verify_chain(previous + stored)
        else:
            assert stored[0].prev_hash == ""

    def test_entries_never_change(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Entries never change."""
        seqs = self._append(uow_factory, uid, 2)
        with uow_factory() as uow:
            before = list(uow.audit.entries(since_sequence=seqs[0] - 1, limit=2))
        self._append(uow_factory, uid, 3)
        with uow_factory() as uow:
            after = list(uow.audit.entries(since_sequence=seqs[0] - 1, limit=5))
        assert before == after[:2]
        assert verify_chain(after)
        assert [seqs[0] + i for i in range(5)] == [e.sequence for e in after]

    def test_entries_are_in_sequence_order(self, uow_factory: UnitOfWorkFactory, uid: str) -> None:
        """Entries are in sequence order."""
        seqs = self._append(uow_factory, uid, 4)
        with uow_factory() as uow:
            got = [e.sequence for e in uow.audit.entries(since_sequence=seqs[1])]
        assert seqs[2:] == got[:2]
        assert sorted(got) == got
