"""Ports: the ``typing.Protocol`` interfaces the core and services depend on.

One module per concern. Adapters in :mod:`multistore.adapters` implement them; the contract
suites in :mod:`multistore.testing` check that an adapter keeps each port's promises.
"""
