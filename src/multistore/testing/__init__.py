"""Test support shipped in the wheel: contract suites, sample-data builders and fakes.

* :mod:`multistore.testing.contracts` -- one pytest suite per port; subclass it to check an
  adapter (``class TestMyStorage(StorageContract): ...``). Importing it needs pytest.
* :mod:`multistore.testing.builders` -- valid sample stores, products, orders and members.
* :mod:`multistore.testing.fakes` -- deterministic clock and id factory.
"""
