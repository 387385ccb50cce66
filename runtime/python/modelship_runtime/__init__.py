"""Modelship's model server: one model artifact behind POST /predict, /healthz and /metrics."""
