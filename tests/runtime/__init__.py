"""Tests of the model server, runtime/python/."""
