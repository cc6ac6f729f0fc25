"""The routing policy: a declarative pydantic model that loads from dicts, JSON or YAML."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

import pydantic
from money.money import Money
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from multistore.routing.errors import RoutingValidationError

__all__ = ["Mode", "RoutingPolicy"]

Mode = Literal["auto", "exact", "fast", "milp"]


class RoutingPolicy(BaseModel):
    """How the router trades cost, splits and completeness.

    Attributes:
        mode: ``"auto"`` (default): exact search within ``node_budget`` nodes, otherwise the best
            plan found with its proven gap; ``"exact"``: search to the proven optimum;
            ``"fast"``: greedy cover and local search, then at most 40 search nodes (when
            units would stay unfulfilled under ``max_shipments``, up to ``node_budget`` more
            nodes settle whether they fit: completeness comes first); ``"milp"``: HiGHS
            (needs ``highspy``). Whatever the mode, the plan is the cheapest any of its steps
            found.
        split_penalty: Extra cost per shipment beyond the first, in major units (``"5.00"``) or
            Money; it steers towards fewer parcels but is not part of the shipping cost. It must
            be a whole number of minor units of the shipments' currency (``routing.invalid_policy``
            otherwise, raised when routing), and Money must be in that currency
            (``routing.currency_mismatch``).
        allow_partial: Ship what can be shipped and report the rest as unfulfilled (default), or
            ship nothing unless the whole order can be fulfilled.
        max_shipments: Upper bound on the number of shipments, if any.
        node_budget: Search nodes allowed in ``auto`` mode before settling for the best plan
            (and in ``fast`` mode to settle whether units fit under ``max_shipments``). Units
            left unfulfilled under ``max_shipments`` are said not to fit only when the search
            proved it; otherwise their reason says the search budget ran out.
        pickup_transfers: For pickup orders, let other stores ship to the pickup store.
        explain: Build the plain-language explanation (turn off for bulk routing).

    Raises:
        RoutingValidationError: ``routing.invalid_policy`` listing every invalid field in
            ``details["errors"]``.

    Examples:
        >>> RoutingPolicy.load({"mode": "fast", "split_penalty": "2.50"}).split_penalty
        Decimal('2.50')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Mode = "auto"
    split_penalty: Decimal = Field(default=Decimal(0), ge=0)
    allow_partial: bool = True
    max_shipments: int | None = Field(default=None, ge=1)
    node_budget: int = Field(default=5_000, ge=1)
    pickup_transfers: bool = False
    explain: bool = True

    _penalty_currency: str | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or "policy", "message": e["msg"]}
                for e in exc.errors()
            ]
            listing = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            raise RoutingValidationError(
                f"invalid routing policy: {listing}",
                code="routing.invalid_policy",
                details={"errors": errors},
            ) from None

    @model_validator(mode="wrap")
    @classmethod
    def _keep_penalty_currency(
        cls, data: Any, handler: ModelWrapValidatorHandler[RoutingPolicy]
    ) -> RoutingPolicy:
        """Remember the currency of a Money ``split_penalty`` (the field keeps the amount)."""
        policy = handler(data)
        penalty = data.get("split_penalty") if isinstance(data, Mapping) else None
        if isinstance(penalty, Money):
            policy._penalty_currency = penalty.currency.value
        return policy

    @property
    def split_penalty_currency(self) -> str | None:
        """Currency of ``split_penalty`` when it was given as Money (``None`` otherwise).

        The router rejects a penalty in another currency than the shipments' with
        ``routing.currency_mismatch``; a plain amount is read in the shipments' currency.
        """
        private = self.__pydantic_private__  # a slot: cheaper than pydantic's __getattr__
        return private.get("_penalty_currency") if private else None

    @field_validator("split_penalty", mode="before")
    @classmethod
    def _exact_amount(cls, value: object) -> object:
        if isinstance(value, float):
            raise ValueError("must not be a float; write it as a string such as '5.00'")
        if isinstance(value, Money):
            return value.amount
        return value

    @classmethod
    def load(cls, data: Mapping[str, Any] | RoutingPolicy | None) -> RoutingPolicy:
        """Build a policy from a mapping (parsed JSON/YAML), a policy, or ``None`` (defaults)."""
        if data is None:
            return cls()
        if isinstance(data, RoutingPolicy):
            return data
        if not isinstance(data, Mapping):
            raise RoutingValidationError(
                f"policy must be a mapping or RoutingPolicy, got {type(data).__name__}",
                code="routing.invalid_policy",
                details={"errors": [{"field": "policy", "message": "not a mapping"}]},
            )
        items = dict(data)
        key = _cache_key(items)
        if key is None:
            return cls(**items)
        got = _LOADED.get(key)
        if got is None:
            got = cls(**items)
            if len(_LOADED) >= _LOADED_LIMIT:
                _LOADED.clear()
            _LOADED[key] = got
        return got


_LOADED: dict[tuple[tuple[object, type, str], ...], RoutingPolicy] = {}
"""Policies already loaded from plain mappings (policies are frozen, so they can be shared)."""
_LOADED_LIMIT = 256
_PLAIN = (str, int, bool, Decimal, type(None))


def _cache_key(items: dict[Any, Any]) -> tuple[tuple[object, type, str], ...] | None:
    """A key that tells apart every mapping of plain values (``None`` when not plain)."""
    key = []
    for k, v in items.items():
        t = type(v)
        if t not in _PLAIN or type(k) is not str:
            return None
        key.append((k, t, str(v)))
    return tuple(key)
