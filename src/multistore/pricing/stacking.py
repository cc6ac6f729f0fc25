"""The declarative stacking policy: lanes, their modes, threshold bases, caps and objective.

Lanes run in order; each works on the price left by the earlier ones. In a lane with
``mode: all`` every chosen promotion applies in turn (by ``priority``, then id); with
``mode: best`` only the one saving most applies per unit -- per line in the item lane, per
store for store-level promotions, once for the cart otherwise. ``threshold_base`` says whether
the lane's thresholds (满300, min spend, free-shipping spend) are checked against the list
prices (``before``) or the prices left by the earlier lanes (``after``, the default).

Examples:
    >>> policy = load_policy({"lanes": [{"name": "item"}, {"name": "store", "mode": "best"}]})
    >>> [lane.name for lane in policy.lanes]
    ['item', 'store']
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from multistore.pricing.errors import PromotionValidationError
from multistore.pricing.promotions import Amount, LaneName, Percentage, pydantic_errors

__all__ = ["DEFAULT_POLICY", "DiscountCap", "LanePolicy", "StackingPolicy", "load_policy"]


class LanePolicy(BaseModel):
    """One lane of the stacking order.

    Attributes:
        name: ``item``, ``store``, ``platform``, ``points`` or ``shipping``.
        mode: ``all`` applies every chosen promotion; ``best`` only the best one per unit.
        threshold_base: ``after`` checks thresholds on the price left by earlier lanes,
            ``before`` on list prices.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: LaneName
    mode: Literal["all", "best"] = "all"
    threshold_base: Literal["before", "after"] = "after"


class DiscountCap(BaseModel):
    """A cap on the total goods discount of a cart (shipping discounts are not capped).

    Attributes:
        max_percent: The discount never exceeds this percentage of the list total.
        min_payable: The goods never cost less than this amount (major units of the cart's
            currency), e.g. ``0.01`` to forbid free orders.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_percent: Percentage | None = None
    min_payable: Amount | None = None


class StackingPolicy(BaseModel):
    """How promotions stack: lane order and modes, cap, objective and hint reach.

    Attributes:
        lanes: Lanes in order; promotions of a lane absent here are not applied.
        cap: Optional cap on the total goods discount.
        objective: ``max_saving`` (best for the customer, the default) or ``min_saving``
            (the merchant's cheapest valid combination).
        hint_within_percent: A 凑单 hint is given when the shortfall to the next threshold is
            at most this percentage of that threshold.
        max_selections: Safety bound on the search: after evaluating this many lane subsets
            per lane it finishes lane by lane instead of exhaustively (and says so).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lanes: list[LanePolicy] = Field(
        default_factory=lambda: [
            LanePolicy(name="item", mode="best"),
            LanePolicy(name="store", mode="all"),
            LanePolicy(name="platform", mode="all"),
            LanePolicy(name="points", mode="best"),
            LanePolicy(name="shipping", mode="best"),
        ]
    )
    cap: DiscountCap | None = None
    objective: Literal["max_saving", "min_saving"] = "max_saving"
    hint_within_percent: Percentage = Decimal(30)
    max_selections: int = Field(default=4096, ge=1)

    @model_validator(mode="after")
    def _check(self) -> StackingPolicy:
        names = [lane.name for lane in self.lanes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PydanticCustomError(
                "policy.duplicate_lane",
                "lane(s) {names} appear more than once; list each lane once",
                {"names": dupes},
            )
        return self

    def lane(self, name: str) -> LanePolicy | None:
        """Return the lane named ``name`` or ``None`` when the policy leaves it out."""
        for lane in self.lanes:
            if lane.name == name:
                return lane
        return None


DEFAULT_POLICY = StackingPolicy()
"""item (best) -> store (all) -> platform (all) -> points (best) -> shipping (best)."""


def load_policy(data: Mapping[str, Any] | StackingPolicy) -> StackingPolicy:
    """Validate a stacking policy from a dict (parsed JSON or YAML).

    Raises:
        PromotionValidationError: ``policy.invalid`` (or the single field code) with every
            invalid field in ``details["errors"]``.
    """
    if isinstance(data, StackingPolicy):
        return data
    try:
        return StackingPolicy.model_validate(data)
    except PydanticValidationError as exc:
        errors = pydantic_errors(exc, prefix="policy", default_code="policy.invalid")
        codes = {e["code"] for e in errors}
        raise PromotionValidationError(
            "invalid stacking policy: "
            + "; ".join(f"{e['field']}: {e['problem']}" for e in errors),
            code=codes.pop() if len(codes) == 1 else "policy.invalid",
            details={"errors": errors},
        ) from None
