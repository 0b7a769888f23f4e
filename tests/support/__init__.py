"""Shared test support: the fixtures plugin every test directory gets (``fixtures``), and
helpers to build sites (``sites``) and demo plants (``plants``), as ``tests.support.*``."""
