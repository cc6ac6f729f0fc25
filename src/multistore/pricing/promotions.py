"""Promotion definitions as data: pydantic models discriminated on ``type``.

Every promotion shares an id, a display name, a currency, a validity window, a scope (stores,
regions, channels, SKUs, categories, brands, member tiers, first order, weekdays and hours) and
its stacking relations (``exclusive_group``, ``combines_with``). Amounts are written in major
units (``"12.30"`` yuan) of the promotion's currency; percentages are numbers 0-100.

Load definitions with :func:`load_promotions` (a list of dicts, a JSON string or a YAML string).
Invalid input raises :class:`~multistore.pricing.errors.PromotionValidationError` listing every
invalid field in ``details["errors"]`` at once.

Examples:
    >>> promos = load_promotions('''
    ... - id: P1
    ...   type: spend_tiers
    ...   tiers: [{threshold: 300, amount: 50}]
    ... ''')
    >>> promos[0].label()
    '满300减50'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from multistore.errors import ValidationError
from multistore.money import minor_per_major
from multistore.pricing.errors import PromotionValidationError

__all__ = [
    "LANE_NAMES",
    "AmountOff",
    "BuyXGetY",
    "Coupon",
    "FixedPrice",
    "FlashSale",
    "GroupBuy",
    "LimitedTime",
    "MemberPrice",
    "MemberTierDiscount",
    "PercentOff",
    "PercentTier",
    "PointsRedemption",
    "Promotion",
    "PromotionBase",
    "QuantityPercent",
    "QuantityTier",
    "Scope",
    "ShippingDiscount",
    "SpendEvery",
    "SpendPercent",
    "SpendTier",
    "SpendTiers",
    "duplicate_code_errors",
    "load_promotion",
    "load_promotions",
    "pydantic_errors",
]

LaneName = Literal["item", "store", "platform", "points", "shipping"]
LANE_NAMES: tuple[str, ...] = ("item", "store", "platform", "points", "shipping")
"""The default lane order: item -> store/order -> platform -> points -> shipping."""


def _percentage(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0 or value > 100:
        raise PydanticCustomError(
            "promotion.invalid_percentage",
            "percentage must be greater than 0 and at most 100, got {value}",
            {"value": str(value)},
        )
    return value


def _non_negative(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0:
        raise PydanticCustomError(
            "promotion.invalid_amount",
            "amount must be zero or positive, got {value}",
            {"value": str(value)},
        )
    return value


def _positive(value: Decimal) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise PydanticCustomError(
            "promotion.invalid_amount",
            "amount must be positive, got {value}",
            {"value": str(value)},
        )
    return value


Percentage = Annotated[Decimal, AfterValidator(_percentage)]
"""A percentage in (0, 100]; ``10`` means 10 % off."""
Amount = Annotated[Decimal, AfterValidator(_non_negative)]
"""A money amount in major units of the promotion's currency, zero or more."""
PositiveAmount = Annotated[Decimal, AfterValidator(_positive)]
"""A money amount in major units of the promotion's currency, more than zero."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Model):
    """Where, when and for whom a promotion applies; ``None`` means "no restriction".

    Attributes:
        stores: Store ids whose lines may get the promotion.
        regions: Region codes (a line's store must be in one of them).
        channels: Sales channels (``"app"``, ``"mini_program"``, ``"pos"``).
        skus: SKUs the promotion covers.
        categories: Categories the promotion covers.
        brands: Brands the promotion covers.
        exclude_skus: SKUs never covered, even when matched above.
        member_tiers: Member tiers allowed (implies a member).
        members_only: Only for identified members.
        first_order_only: Only for a member's first order.
        weekdays: ISO weekdays (1 = Monday ... 7 = Sunday) in ``timezone``.
        hours: ``[from, to)`` hours of the day in ``timezone``, e.g. ``[10, 14]``.
        timezone: IANA zone for weekdays and hours (default ``Asia/Shanghai``).
    """

    stores: list[str] | None = None
    regions: list[str] | None = None
    channels: list[str] | None = None
    skus: list[str] | None = None
    categories: list[str] | None = None
    brands: list[str] | None = None
    exclude_skus: list[str] = Field(default_factory=list)
    member_tiers: list[str] | None = None
    members_only: bool = False
    first_order_only: bool = False
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = None
    hours: tuple[Annotated[int, Field(ge=0, le=24)], Annotated[int, Field(ge=0, le=24)]] | None = (
        None
    )
    timezone: str = "Asia/Shanghai"

    @model_validator(mode="after")
    def _check(self) -> Scope:
        if self.hours is not None and self.hours[0] >= self.hours[1]:
            raise PydanticCustomError(
                "promotion.invalid_window",
                "hours must be [from, to) with from < to, got {hours}",
                {"hours": list(self.hours)},
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "promotion.invalid_timezone",
                "timezone {tz!r} is not an IANA zone such as 'Asia/Shanghai'",
                {"tz": self.timezone},
            ) from None
        return self

    def zone(self) -> ZoneInfo:
        """Return the :class:`ZoneInfo` used for weekdays and hours."""
        return ZoneInfo(self.timezone)


class PromotionBase(_Model):
    """Fields shared by every promotion type.

    Attributes:
        id: Stable promotion id (unique within a promotion set).
        name: Display name; defaults to a generated label such as ``满300减50``.
        currency: ISO 4217 code of every amount in the definition (default ``CNY``).
        lane: Override of the type's default stacking lane.
        priority: Order inside a lane (lower first); ties by id.
        exclusive_group: At most one promotion of a group applies.
        combines_with: Ids or exclusive groups this promotion may stack with; ``None`` means
            everything, ``[]`` means nothing.
        starts_at: Start of the validity window (inclusive, timezone-aware).
        ends_at: End of the validity window (exclusive, timezone-aware).
        scope: Stores, channels, products, members and hours the promotion is limited to.
        reference_prices: "Was" prices (划线价) shown with the promotion, by SKU, checked by
            :func:`multistore.pricing.check_reference_prices`.
    """

    id: Annotated[str, Field(min_length=1)]
    name: str = ""
    currency: str = "CNY"
    lane: LaneName | None = None
    priority: int = 0
    exclusive_group: str | None = None
    combines_with: list[str] | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    scope: Scope = Field(default_factory=Scope)
    reference_prices: dict[str, PositiveAmount] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        """Validate like :func:`load_promotion`, raising ``PromotionValidationError``."""
        try:
            super().__init__(**data)
        except PydanticValidationError as exc:
            _raise_errors(pydantic_errors(exc), f"the {type(self).__name__} definition")

    default_lane: ClassVar[str] = "item"
    """The type's default lane (overridden per type)."""
    window_required: ClassVar[bool] = False
    """Whether the type needs both ``starts_at`` and ``ends_at``."""

    def money_values(self) -> Iterable[tuple[str, Decimal]]:
        """Yield ``(field, amount)`` for every amount of the definition (checked for exactness)."""
        yield from (
            (f"reference_prices.{sku}", value) for sku, value in self.reference_prices.items()
        )

    def label(self) -> str:
        """Return the display name, or a generated label such as ``满300减50``."""
        return self.name or self.describe()

    def describe(self) -> str:
        """Return a short generated description of the promotion's offer."""
        return self.id

    def effective_lane(self) -> str:
        """Return the lane the promotion stacks in (``lane`` or the type's default)."""
        return self.lane or self.default_lane

    def in_window(self, now: datetime) -> bool:
        """Return whether ``now`` lies in ``[starts_at, ends_at)``."""
        if self.starts_at is not None and now < self.starts_at:
            return False
        return not (self.ends_at is not None and now >= self.ends_at)

    @model_validator(mode="after")
    def _check_base(self) -> PromotionBase:
        problems: list[tuple[str, str, str]] = []
        if (
            self.starts_at is not None
            and self.ends_at is not None
            and self.ends_at <= self.starts_at
        ):
            problems.append(
                (
                    "promotion.invalid_window",
                    "ends_at",
                    (
                        f"ends_at {self.ends_at.isoformat()} must be after starts_at "
                        f"{self.starts_at.isoformat()}"
                    ),
                )
            )
        if self.window_required and (self.starts_at is None or self.ends_at is None):
            problems.append(
                (
                    "promotion.invalid_window",
                    "starts_at",
                    f"a {_type_of(self)} promotion needs both starts_at and ends_at",
                )
            )
        try:
            scale = minor_per_major(self.currency)
        except ValidationError:
            problems.append(
                (
                    "promotion.unknown_currency",
                    "currency",
                    f"currency {self.currency!r} is not an ISO 4217 code such as 'CNY'",
                )
            )
            scale = 0
        if scale:
            for field, value in self.money_values():
                minor = value * scale
                if minor != minor.to_integral_value():
                    problems.append(
                        (
                            "promotion.invalid_amount",
                            field,
                            f"amount {value} has more decimals than {self.currency} allows",
                        )
                    )
        problems.extend(self._check_type())
        if problems:
            code = problems[0][0]
            raise PydanticCustomError(
                code,
                "{summary}",
                {
                    "summary": "; ".join(f"{f}: {m}" for _, f, m in problems),
                    "problems": [{"code": c, "field": f, "problem": m} for c, f, m in problems],
                },
            )
        return self

    def _check_type(self) -> list[tuple[str, str, str]]:
        return []


def _type_of(model: BaseModel) -> str:
    return str(getattr(model, "type", type(model).__name__))


def _pct(value: Decimal) -> str:
    """Write a percentage without trailing zeros: ``Decimal("10.0")`` -> ``10``."""
    return format(value.normalize(), "f")


def _zhe(percent_off: Decimal) -> str:
    """Write ``percent_off`` as the Chinese 折 figure: 10 % off -> ``9折``."""
    rest = (Decimal(100) - percent_off) / 10
    return f"{_pct(rest)}折"


def _amt(value: Decimal) -> str:
    return _pct(value)


# -- item-level discounts --------------------------------------------------------------------


class PercentOff(PromotionBase):
    """Percentage off each covered line (``percent: 20`` is 8折)."""

    type: Literal["percent_off"] = "percent_off"
    percent: Percentage

    def describe(self) -> str:  # noqa: D102 - see base
        return f"单品{_zhe(self.percent)}"


class AmountOff(PromotionBase):
    """A fixed amount off each covered unit (never below zero)."""

    type: Literal["amount_off"] = "amount_off"
    amount: PositiveAmount

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield ("amount", self.amount)

    def describe(self) -> str:  # noqa: D102 - see base
        return f"每件立减{_amt(self.amount)}"


class FixedPrice(PromotionBase):
    """A fixed unit price for covered units (only when lower than the current price)."""

    type: Literal["fixed_price"] = "fixed_price"
    price: Amount

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield ("price", self.price)

    def describe(self) -> str:  # noqa: D102 - see base
        return f"一口价{_amt(self.price)}"


class LimitedTime(PromotionBase):
    """Limited-time discount (限时折扣): a percentage off or a unit price inside a window."""

    type: Literal["limited_time"] = "limited_time"
    percent: Percentage | None = None
    price: Amount | None = None
    window_required: ClassVar[bool] = True

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        if self.price is not None:
            yield ("price", self.price)

    def _check_type(self) -> list[tuple[str, str, str]]:
        if (self.percent is None) == (self.price is None):
            return [("promotion.invalid_offer", "percent", "give exactly one of percent or price")]
        return []

    def describe(self) -> str:  # noqa: D102 - see base
        if self.percent is not None:
            return f"限时{_zhe(self.percent)}"
        return f"限时价{_amt(self.price or Decimal(0))}"


class FlashSale(PromotionBase):
    """Flash sale (秒杀): a special unit price for a quota of units, with a per-member limit.

    The pure engine takes the remaining quota and the member's purchases from
    :class:`~multistore.pricing.cart.UsageState`; units beyond them pay the normal price.
    """

    type: Literal["flash_sale"] = "flash_sale"
    price: Amount
    quota: Annotated[int, Field(gt=0)]
    per_member_limit: Annotated[int, Field(gt=0)] | None = None
    window_required: ClassVar[bool] = True

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield ("price", self.price)

    def describe(self) -> str:  # noqa: D102 - see base
        return f"秒杀价{_amt(self.price)}"


class GroupBuy(PromotionBase):
    """Group buy (拼团): the group price for carts that belong to a group of this promotion.

    The context says which group buys the cart joined (``PricingContext.group_buys``); the
    lifecycle (open -> joined -> succeeded / failed) is kept by the group-buy port.
    """

    type: Literal["group_buy"] = "group_buy"
    price: Amount
    min_participants: Annotated[int, Field(ge=2)] = 2
    deadline: AwareDatetime | None = None

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield ("price", self.price)

    def describe(self) -> str:  # noqa: D102 - see base
        return f"{self.min_participants}人团{_amt(self.price)}"


class MemberPrice(PromotionBase):
    """Member prices (会员价) by SKU, for identified members."""

    type: Literal["member_price"] = "member_price"
    prices: dict[str, Amount]

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield from ((f"prices.{sku}", v) for sku, v in self.prices.items())

    def _check_type(self) -> list[tuple[str, str, str]]:
        if not self.prices:
            return [("promotion.invalid_offer", "prices", "give at least one SKU price")]
        return []

    def describe(self) -> str:  # noqa: D102 - see base
        return "会员价"


class MemberTierDiscount(PromotionBase):
    """Member-tier discounts: a percentage off by member tier (``{gold: 10}``)."""

    type: Literal["member_tier_discount"] = "member_tier_discount"
    percents: dict[str, Percentage]

    def _check_type(self) -> list[tuple[str, str, str]]:
        if not self.percents:
            return [("promotion.invalid_offer", "percents", "give at least one tier")]
        return []

    def describe(self) -> str:  # noqa: D102 - see base
        return "会员折扣"


class BuyXGetY(PromotionBase):
    """Buy X get Y (买二送一, 第二件半价): in every ``buy + get`` units, ``get`` are discounted.

    Attributes:
        buy: Units paid in full per group.
        get: Units discounted per group.
        percent: Percentage off the discounted units (100 = free).
        discounted_units: ``cheapest`` (default) or ``most_expensive`` units get the discount.
    """

    type: Literal["buy_x_get_y"] = "buy_x_get_y"
    buy: Annotated[int, Field(ge=1)]
    get: Annotated[int, Field(ge=1)] = 1
    percent: Percentage = Decimal(100)
    discounted_units: Literal["cheapest", "most_expensive"] = "cheapest"

    def describe(self) -> str:  # noqa: D102 - see base
        if self.percent == 100:
            return f"买{self.buy}送{self.get}"
        return f"买{self.buy}件第{self.buy + 1}件{_zhe(self.percent)}"


# -- order-level discounts -------------------------------------------------------------------


class SpendTier(_Model):
    """One tier of 满减: spend ``threshold``, get ``amount`` off."""

    threshold: PositiveAmount
    amount: PositiveAmount


class PercentTier(_Model):
    """One tier of 满折: spend ``threshold``, get ``percent`` off."""

    threshold: Amount
    percent: Percentage


class QuantityTier(_Model):
    """One tier of a quantity threshold: buy ``min_quantity`` units, get ``percent`` off."""

    min_quantity: Annotated[int, Field(ge=1)]
    percent: Percentage


class _OrderLevel(PromotionBase):
    """Order-level promotions apply per store (``level: store``) or across stores."""

    level: Literal["store", "platform"] = "store"

    def effective_lane(self) -> str:
        return self.lane or ("platform" if self.level == "platform" else "store")


def _tier_problems(
    thresholds: Sequence[Decimal | int], offers: Sequence[Decimal], unit: str
) -> list[tuple[str, str, str]]:
    problems: list[tuple[str, str, str]] = []
    if not thresholds:
        return [("promotion.invalid_tier", "tiers", "give at least one tier")]
    for i in range(1, len(thresholds)):
        if thresholds[i] <= thresholds[i - 1]:
            problems.append(
                (
                    "promotion.invalid_tier",
                    f"tiers.{i}",
                    (
                        f"tier thresholds must strictly increase; {thresholds[i]}{unit} follows "
                        f"{thresholds[i - 1]}{unit} (overlapping tiers)"
                    ),
                )
            )
        elif offers[i] <= offers[i - 1]:
            problems.append(
                (
                    "promotion.invalid_tier",
                    f"tiers.{i}",
                    f"a higher tier must give more: {offers[i]} is not more than {offers[i - 1]}",
                )
            )
    return problems


class SpendTiers(_OrderLevel):
    """满减 tiers: 满100减10, 满200减30; the highest tier reached applies."""

    type: Literal["spend_tiers"] = "spend_tiers"
    tiers: list[SpendTier]

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        for i, t in enumerate(self.tiers):
            yield (f"tiers.{i}.threshold", t.threshold)
            yield (f"tiers.{i}.amount", t.amount)

    def _check_type(self) -> list[tuple[str, str, str]]:
        problems = _tier_problems(
            [t.threshold for t in self.tiers], [t.amount for t in self.tiers], ""
        )
        problems.extend(
            (
                "promotion.invalid_tier",
                f"tiers.{i}.amount",
                f"amount off {t.amount} exceeds its threshold {t.threshold}",
            )
            for i, t in enumerate(self.tiers)
            if t.amount > t.threshold
        )
        return problems

    def describe(self) -> str:  # noqa: D102 - see base
        return ",".join(f"满{_amt(t.threshold)}减{_amt(t.amount)}" for t in self.tiers)


class SpendEvery(_OrderLevel):
    """Repeating 满减 (每满100减10), optionally capped in total."""

    type: Literal["spend_every"] = "spend_every"
    every: PositiveAmount
    amount: PositiveAmount
    cap: PositiveAmount | None = None

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield ("every", self.every)
        yield ("amount", self.amount)
        if self.cap is not None:
            yield ("cap", self.cap)

    def _check_type(self) -> list[tuple[str, str, str]]:
        if self.amount > self.every:
            return [
                (
                    "promotion.invalid_tier",
                    "amount",
                    f"amount off {self.amount} exceeds the step {self.every}",
                )
            ]
        return []

    def describe(self) -> str:  # noqa: D102 - see base
        text = f"每满{_amt(self.every)}减{_amt(self.amount)}"
        return text + (f"(最多减{_amt(self.cap)})" if self.cap is not None else "")


class SpendPercent(_OrderLevel):
    """满折: spend a threshold, get a percentage off; the highest tier reached applies."""

    type: Literal["spend_percent"] = "spend_percent"
    tiers: list[PercentTier]

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        for i, t in enumerate(self.tiers):
            yield (f"tiers.{i}.threshold", t.threshold)

    def _check_type(self) -> list[tuple[str, str, str]]:
        return _tier_problems(
            [t.threshold for t in self.tiers], [t.percent for t in self.tiers], ""
        )

    def describe(self) -> str:  # noqa: D102 - see base
        return ",".join(f"满{_amt(t.threshold)}打{_zhe(t.percent)}" for t in self.tiers)


class QuantityPercent(_OrderLevel):
    """Quantity thresholds (满2件9折): buy N covered units, get a percentage off them."""

    type: Literal["quantity_percent"] = "quantity_percent"
    tiers: list[QuantityTier]

    def _check_type(self) -> list[tuple[str, str, str]]:
        return _tier_problems(
            [t.min_quantity for t in self.tiers], [t.percent for t in self.tiers], "件"
        )

    def describe(self) -> str:  # noqa: D102 - see base
        return ",".join(f"满{t.min_quantity}件{_zhe(t.percent)}" for t in self.tiers)


class Coupon(_OrderLevel):
    """Coupon (优惠券): an amount off, or a percentage off with a cap, above a minimum spend.

    A coupon applies only when one of its ``codes`` is presented in the pricing context.
    Usage limits are checked against :class:`~multistore.pricing.cart.UsageState`.
    """

    type: Literal["coupon"] = "coupon"
    codes: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    amount: PositiveAmount | None = None
    percent: Percentage | None = None
    max_off: PositiveAmount | None = None
    min_spend: Amount = Decimal(0)
    per_member_limit: Annotated[int, Field(gt=0)] | None = None
    total_limit: Annotated[int, Field(gt=0)] | None = None

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        for name in ("amount", "max_off", "min_spend"):
            value = getattr(self, name)
            if value is not None:
                yield (name, value)

    def _check_type(self) -> list[tuple[str, str, str]]:
        if (self.amount is None) == (self.percent is None):
            return [("promotion.invalid_offer", "amount", "give exactly one of amount or percent")]
        if self.amount is not None and self.min_spend and self.amount > self.min_spend:
            return [
                (
                    "promotion.invalid_tier",
                    "amount",
                    f"amount off {self.amount} exceeds the minimum spend {self.min_spend}",
                )
            ]
        return []

    def describe(self) -> str:  # noqa: D102 - see base
        head = f"满{_amt(self.min_spend)}" if self.min_spend else ""
        if self.amount is not None:
            return f"{head}减{_amt(self.amount)}券" if head else f"{_amt(self.amount)}元券"
        cap = f"(最多减{_amt(self.max_off)})" if self.max_off is not None else ""
        return f"{head}{_zhe(self.percent or Decimal(0))}券{cap}"


# -- points and shipping ---------------------------------------------------------------------


class PointsRedemption(PromotionBase):
    """Points redemption: ``points_per_unit`` points are worth one major unit (¥1).

    At most ``max_percent`` of the order (the goods left after earlier lanes) is paid in points.
    """

    type: Literal["points"] = "points"
    points_per_unit: Annotated[int, Field(gt=0)] = 100
    max_percent: Percentage = Decimal(100)
    default_lane: ClassVar[str] = "points"

    def describe(self) -> str:  # noqa: D102 - see base
        return f"积分抵现({self.points_per_unit}积分=1元)"


class ShippingDiscount(PromotionBase):
    """Shipping discount: free shipping (``amount`` omitted) or an amount off, above a spend.

    With ``level: store`` the spend is each store's goods; with ``platform`` the whole cart's.
    """

    type: Literal["shipping"] = "shipping"
    min_spend: Amount = Decimal(0)
    amount: PositiveAmount | None = None
    level: Literal["store", "platform"] = "store"
    default_lane: ClassVar[str] = "shipping"

    def money_values(self) -> Iterable[tuple[str, Decimal]]:  # noqa: D102 - see base
        yield from super().money_values()
        yield ("min_spend", self.min_spend)
        if self.amount is not None:
            yield ("amount", self.amount)

    def describe(self) -> str:  # noqa: D102 - see base
        head = f"满{_amt(self.min_spend)}" if self.min_spend else ""
        if self.amount is None:
            return f"{head}包邮"
        return f"{head}运费减{_amt(self.amount)}"


Promotion = Annotated[
    PercentOff
    | AmountOff
    | FixedPrice
    | LimitedTime
    | FlashSale
    | GroupBuy
    | MemberPrice
    | MemberTierDiscount
    | BuyXGetY
    | SpendTiers
    | SpendEvery
    | SpendPercent
    | QuantityPercent
    | Coupon
    | PointsRedemption
    | ShippingDiscount,
    Field(discriminator="type"),
]
"""Any promotion definition; the ``type`` field picks the model."""

_PROMOTIONS: TypeAdapter[list[Promotion]] = TypeAdapter(list[Promotion])

_CODE_BY_PYDANTIC_TYPE = {
    "union_tag_invalid": "promotion.unknown_type",
    "union_tag_not_found": "promotion.unknown_type",
    "timezone_aware": "promotion.invalid_window",
    "datetime_parsing": "promotion.invalid_window",
    "datetime_from_date_parsing": "promotion.invalid_window",
    "extra_forbidden": "promotion.unknown_field",
    "missing": "promotion.missing_field",
    "decimal_parsing": "promotion.invalid_amount",
    "decimal_type": "promotion.invalid_amount",
}


def pydantic_errors(
    exc: PydanticValidationError, *, prefix: str = "", default_code: str = "promotion.invalid"
) -> list[dict[str, str]]:
    """Turn a pydantic error into ``[{"field", "problem", "code"}]`` dictionaries.

    Args:
        exc: The pydantic validation error.
        prefix: Prepended to every field path (``"promotions"``).
        default_code: Code for pydantic errors without a specific mapping.

    Returns:
        One dictionary per invalid field, in pydantic's order.
    """
    out: list[dict[str, str]] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        kind = str(err["type"])
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if kind == "value_error" and isinstance(inner, PromotionValidationError):
            # Raised by a promotion model's own __init__ (direct construction path).
            out.extend(
                {
                    "field": _field([*loc, e["field"]] if e["field"] else loc, prefix),
                    "problem": e["problem"],
                    "code": e["code"],
                }
                for e in inner.details.get("errors", [])
            )
            continue
        if kind.startswith(("promotion.", "policy.")) and "problems" in ctx:
            out.extend(
                {
                    "field": _field([*loc, p["field"]], prefix),
                    "problem": p["problem"],
                    "code": p["code"],
                }
                for p in ctx["problems"]
            )
            continue
        if kind.startswith(("promotion.", "policy.")):
            code = kind
            problem = str(err["msg"])
        else:
            code = _CODE_BY_PYDANTIC_TYPE.get(kind, default_code)
            if kind in {"greater_than", "less_than_equal", "greater_than_equal"} and any(
                "percent" in p for p in loc
            ):
                code = "promotion.invalid_percentage"
            problem = str(err["msg"])
            if kind == "union_tag_invalid":
                problem = (
                    f"unknown promotion type {ctx.get('tag')!r}; "
                    f"use one of {ctx.get('expected_tags')}"
                )
        out.append({"field": _field(loc, prefix), "problem": problem, "code": code})
    return out


def _field(loc: Sequence[str], prefix: str) -> str:
    # Drop the discriminator tag that pydantic inserts into union locations.
    field = ".".join(p for p in loc if p not in _TYPE_TAGS)
    if prefix:
        field = f"{prefix}.{field}" if field else prefix
    return field


_TYPE_TAGS = frozenset(
    {
        "percent_off",
        "amount_off",
        "fixed_price",
        "limited_time",
        "flash_sale",
        "group_buy",
        "member_price",
        "member_tier_discount",
        "buy_x_get_y",
        "spend_tiers",
        "spend_every",
        "spend_percent",
        "quantity_percent",
        "coupon",
        "points",
        "shipping",
    }
)


def _raise_errors(errors: list[dict[str, str]], what: str) -> None:
    codes = {e["code"] for e in errors}
    code = codes.pop() if len(codes) == 1 else "promotion.invalid"
    summary = "; ".join(f"{e['field']}: {e['problem']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    raise PromotionValidationError(
        f"{len(errors)} invalid field(s) in {what}: {summary}{more}",
        code=code,
        details={"errors": errors},
    )


def _parse_text(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        pass
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise PromotionValidationError(
            f"promotion text is neither valid JSON nor valid YAML: {exc}",
            code="promotion.unreadable",
            details={
                "errors": [{"field": "", "problem": str(exc), "code": "promotion.unreadable"}]
            },
        ) from None


def load_promotions(
    data: str | bytes | Sequence[Mapping[str, Any] | PromotionBase] | Mapping[str, Any],
) -> list[Promotion]:
    """Load and validate promotion definitions from dicts, a JSON string or a YAML string.

    A mapping with a ``promotions`` key (a YAML document with a top-level list under
    ``promotions:``) is accepted as well as a bare list.

    Args:
        data: The definitions.

    Returns:
        The validated promotions, in input order.

    Raises:
        PromotionValidationError: every invalid field at once in ``details["errors"]``; the
            error's ``code`` is the field code when all problems share it (for example
            ``promotion.invalid_tier``), otherwise ``promotion.invalid``. Duplicate ids raise
            ``promotion.duplicate_id``; a coupon code used by two coupons raises
            ``promotion.duplicate_code``.
    """
    raw: Any = data
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    if isinstance(raw, str):
        raw = _parse_text(raw)
    if isinstance(raw, Mapping):
        raw = raw.get("promotions", [raw]) if "type" not in raw else [raw]
    if raw is None:
        raw = []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise PromotionValidationError(
            "promotions must be a list of definitions",
            details={
                "errors": [{"field": "", "problem": "not a list", "code": "promotion.invalid"}]
            },
        )
    items = [p.model_dump() if isinstance(p, PromotionBase) else p for p in raw]
    try:
        promos = _PROMOTIONS.validate_python(items)
    except PydanticValidationError as exc:
        _raise_errors(pydantic_errors(exc, prefix="promotions"), "the promotion definitions")
        raise AssertionError("unreachable") from exc  # pragma: no cover
    seen: dict[str, int] = {}
    dupes: list[dict[str, str]] = []
    for i, p in enumerate(promos):
        if p.id in seen:
            dupes.append(
                {
                    "field": f"promotions.{i}.id",
                    "problem": f"id {p.id!r} is already used by promotions.{seen[p.id]}",
                    "code": "promotion.duplicate_id",
                }
            )
        seen.setdefault(p.id, i)
    dupes.extend(duplicate_code_errors(promos))
    if dupes:
        _raise_errors(dupes, "the promotion definitions")
    return promos


def duplicate_code_errors(promos: Sequence[Promotion]) -> list[dict[str, str]]:
    """One ``promotion.duplicate_code`` error per coupon code already used by another coupon.

    A code must redeem exactly one promotion: two coupons sharing one would both apply.
    """
    owner: dict[str, int] = {}
    errors: list[dict[str, str]] = []
    for i, p in enumerate(promos):
        if not isinstance(p, Coupon):
            continue
        for code in dict.fromkeys(p.codes):
            first = owner.setdefault(code, i)
            if first != i:
                errors.append(
                    {
                        "field": f"promotions.{i}.codes",
                        "problem": f"code {code!r} is already used by coupon "
                        f"{promos[first].id!r} (promotions.{first})",
                        "code": "promotion.duplicate_code",
                    }
                )
    return errors


def load_promotion(data: str | bytes | Mapping[str, Any]) -> Promotion:
    """Load and validate one promotion definition (see :func:`load_promotions`).

    Raises:
        PromotionValidationError: every invalid field at once in ``details["errors"]``.
    """
    promos = load_promotions(data)
    if len(promos) != 1:
        raise PromotionValidationError(
            f"expected one promotion, got {len(promos)}",
            details={"errors": [{"field": "", "problem": "not one", "code": "promotion.invalid"}]},
        )
    return promos[0]
