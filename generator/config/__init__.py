"""platform.yaml: its settings (``settings``), the rules beyond its schema (``checks``), and
how a file becomes a Platform (``loader``)."""
