"""The member model: one account across all stores and channels."""

from __future__ import annotations

from datetime import datetime

import attrs

from multistore._validation import valid_id, valid_text
from multistore.errors import ValidationError

__all__ = ["Member"]


@attrs.frozen
class Member:
    """A customer account shared by every store and channel of the chain.

    ``phone`` and ``name`` are personal information (PIPL): storage adapters must encrypt them at
    rest, and ``repr`` masks them.

    Raises:
        ValidationError: for an empty id or name, or a phone that is not 6-20 digits (``+``
            allowed first).
    """

    id: str = attrs.field(validator=valid_id("member.id"))
    name: str = attrs.field(validator=valid_text("member.name"), repr=False)
    phone: str = attrs.field(repr=False)
    tier: str = "standard"
    home_store_id: str | None = None
    joined_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        phone = self.phone if isinstance(self.phone, str) else ""
        digits = phone[1:] if phone.startswith("+") else phone
        if not (digits.isdigit() and 6 <= len(digits) <= 20):
            raise ValidationError(
                f"phone of member {self.id!r} must be 6-20 digits", code="member.invalid_phone"
            )

    @property
    def masked_phone(self) -> str:
        """The phone with all but the first three and last four digits hidden (138****5678)."""
        p = self.phone
        return p[:3] + "*" * max(0, len(p) - 7) + p[-4:] if len(p) > 7 else "*" * len(p)
