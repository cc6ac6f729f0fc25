"""The demo chain and the sections of ``multistore demo`` (one module per capability)."""
