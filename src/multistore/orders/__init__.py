"""Orders: what customers bought through which channel, and where it goes."""

from multistore.orders.model import Order, OrderLine, OrderStatus

__all__ = ["Order", "OrderLine", "OrderStatus"]
