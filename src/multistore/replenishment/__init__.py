"""Replenishment: demand forecasting, safety stock, reorder policies, transfers and alerts.

The pure engine answers, for every store and SKU, how much will sell, how much buffer to hold,
when to reorder, how much, and whether another store can send it sooner and cheaper.

* :func:`plan` -- purchase orders by supplier and transfers between stores for many series.
* Building blocks: :func:`build_histories`, :func:`classify`, the forecasters
  (:func:`moving_average`, :func:`ses`, :func:`holt`, :func:`seasonal_weekly`, :func:`croston`,
  :func:`sba`, :func:`tsb`, :func:`forecast`), the policy functions (:func:`safety_stock`,
  :func:`reorder_point`, :func:`eoq`, :func:`newsvendor_normal`, :func:`ss_power_approximation`,
  :func:`rq_eoq_ss`, :func:`policy_levels`...), :func:`suggest_transfers`, :func:`check_reorder`,
  :func:`bulk_policies` for a million pairs at once and :func:`fit_intermittent_many` for many
  Croston/SBA/TSB fits at once.

Examples:
    >>> from decimal import Decimal
    >>> result = eoq(demand_rate=1300, order_cost=Decimal(8), holding_cost=Decimal("0.225"))
    >>> round(result.quantity, 2)
    304.05
"""

from multistore.replenishment.alerts import (
    AlertState,
    ReorderAlert,
    ReorderAlertDetector,
    check_reorder,
)
from multistore.replenishment.bulk import (
    BulkPolicies,
    bulk_policies,
    fit_intermittent_many,
    numpy_available,
)
from multistore.replenishment.classification import (
    ADI_CUTOFF,
    CV2_CUTOFF,
    Classification,
    DemandClass,
    classify,
    default_method,
)
from multistore.replenishment.errors import (
    EmptyHistoryError,
    InvalidCostError,
    InvalidLeadTimeError,
    InvalidParameterError,
    InvalidServiceLevelError,
    NegativeDemandError,
    ReplenishmentError,
)
from multistore.replenishment.forecasting import (
    METHODS,
    Forecast,
    croston,
    forecast,
    holt,
    moving_average,
    sba,
    seasonal_weekly,
    ses,
    tsb,
)
from multistore.replenishment.history import DemandHistory, SalesRecord, build_histories
from multistore.replenishment.policies import (
    EOQResult,
    NewsvendorResult,
    PolicyLevels,
    ReplenishmentPolicy,
    RQPolicy,
    SSPolicy,
    eoq,
    fill_rate_safety_factor,
    lead_time_demand,
    newsvendor_normal,
    order_quantity_min_max,
    order_quantity_rq,
    order_quantity_rs,
    order_quantity_ss,
    policy_levels,
    reorder_point,
    round_order_quantity,
    rq_eoq_ss,
    safety_factor,
    safety_stock,
    ss_power_approximation,
)
from multistore.replenishment.suggestions import (
    ItemPlan,
    LeadTime,
    Plan,
    PurchaseLine,
    PurchaseOrder,
    StockPosition,
    SupplyTerms,
    plan,
)
from multistore.replenishment.transfers import (
    StoreStock,
    TransferCosts,
    TransferSuggestion,
    suggest_transfers,
)

__all__ = [
    "ADI_CUTOFF",
    "CV2_CUTOFF",
    "METHODS",
    "AlertState",
    "BulkPolicies",
    "Classification",
    "DemandClass",
    "DemandHistory",
    "EOQResult",
    "EmptyHistoryError",
    "Forecast",
    "InvalidCostError",
    "InvalidLeadTimeError",
    "InvalidParameterError",
    "InvalidServiceLevelError",
    "ItemPlan",
    "LeadTime",
    "NegativeDemandError",
    "NewsvendorResult",
    "Plan",
    "PolicyLevels",
    "PurchaseLine",
    "PurchaseOrder",
    "RQPolicy",
    "ReorderAlert",
    "ReorderAlertDetector",
    "ReplenishmentError",
    "ReplenishmentPolicy",
    "SSPolicy",
    "SalesRecord",
    "StockPosition",
    "StoreStock",
    "SupplyTerms",
    "TransferCosts",
    "TransferSuggestion",
    "build_histories",
    "bulk_policies",
    "check_reorder",
    "classify",
    "croston",
    "default_method",
    "eoq",
    "fill_rate_safety_factor",
    "fit_intermittent_many",
    "forecast",
    "holt",
    "lead_time_demand",
    "moving_average",
    "newsvendor_normal",
    "numpy_available",
    "order_quantity_min_max",
    "order_quantity_rq",
    "order_quantity_rs",
    "order_quantity_ss",
    "plan",
    "policy_levels",
    "reorder_point",
    "round_order_quantity",
    "rq_eoq_ss",
    "safety_factor",
    "safety_stock",
    "sba",
    "seasonal_weekly",
    "ses",
    "ss_power_approximation",
    "suggest_transfers",
    "tsb",
]
