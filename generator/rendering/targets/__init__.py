"""Render targets: one module per kind of output (``base.Target``), listed in ``registry``."""
