"""Type stubs for py-money (the package ships no annotations of its own)."""
