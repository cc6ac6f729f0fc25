"""Members: one customer account shared by every store and channel."""

from multistore.members.model import Member

__all__ = ["Member"]
