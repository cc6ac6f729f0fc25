"""What every service shares: the ports it runs on, and how one use case runs.

The services themselves live with their context (:mod:`multistore.stores.service`,
:mod:`multistore.inventory.service`, ...); :func:`multistore.connect` wires them together.
"""

from multistore.services.context import ServiceContext
from multistore.services.relay import relay_outbox

__all__ = ["ServiceContext", "relay_outbox"]
