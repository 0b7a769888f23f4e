"""Argument types shared by tools; identifier fields become enums in the model's schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools.registry import ENUM_SOURCE_KEY

TagName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="A tag name exactly as the plant catalog lists it, e.g. 'P-101.FlowRate'.",
        json_schema_extra={ENUM_SOURCE_KEY: "tag"},
    ),
]

EquipmentName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="An equipment name exactly as the plant catalog lists it, e.g. 'P-101'.",
        json_schema_extra={ENUM_SOURCE_KEY: "equipment"},
    ),
]
