"""Adapters: implementations of the ports in :mod:`multistore.ports`.

* :mod:`multistore.adapters.memory` -- the in-memory reference implementation (also the test fakes).
* :mod:`multistore.adapters.sqlalchemy` -- SQLite and PostgreSQL.
* :mod:`multistore.adapters.events` -- event buses.
* :mod:`multistore.adapters.system` -- the real clock and id factory.
* :mod:`multistore.adapters.registry` -- storage backends by URL scheme, including plugins.
"""
