"""Prompt templates, shipped as package data and rendered strictly.

A template names its fields as ``$name``; rendering fails on a missing field instead of
sending the model a half-filled prompt.
"""

from __future__ import annotations

from importlib import resources
from string import Template


def load(name: str) -> Template:
    """The template ``name`` (e.g. 'system.md') from this package."""
    return Template(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def render(name: str, **fields: str) -> str:
    """Render a template; a missing field raises KeyError."""
    return load(name).substitute(**fields)
