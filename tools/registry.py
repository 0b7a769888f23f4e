"""The tool registry: what the agent can call, built from plain typed functions.

A tool is an ``async def name(ctx: ToolContext, args: ArgsModel) -> ResultModel`` with a
docstring. The registry takes the name from the function, the description from the
docstring and the argument schema from the pydantic model, so the model reads exactly what
the code enforces. Tool modules expose ``register(registry)``; nothing registers itself at
import time.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel

from agent.errors import UsageError
from tools.context import ToolContext

ToolFunc = Callable[[ToolContext, Any], Awaitable[BaseModel]]
F = TypeVar("F", bound=Callable[..., Awaitable[BaseModel]])

#: Marker put into a field's JSON schema by tools.types; the schema builder replaces it
#: with an enum of the names the browse found (tags, equipment).
ENUM_SOURCE_KEY = "x-plantagent-enum"


@dataclass(frozen=True)
class ToolSpec:
    """One callable tool as the agent and the policy engine see it."""

    name: str
    description: str
    args_model: type[BaseModel]
    result_model: type[BaseModel]
    func: ToolFunc
    requires_approval: bool = False
    writes_to_plant: bool = False

    async def run(self, ctx: ToolContext, args: BaseModel) -> BaseModel:
        """Run the tool; callers go through the policy engine first."""
        return await self.func(ctx, args)


def tool(
    *, requires_approval: bool = False, writes_to_plant: bool = False
) -> Callable[[F], F]:
    """Mark an async function as a tool; :func:`spec_of` turns it into a ToolSpec."""

    def mark(func: F) -> F:
        func.__plantagent_tool__ = {  # type: ignore[attr-defined]
            "requires_approval": requires_approval,
            "writes_to_plant": writes_to_plant,
        }
        return func

    return mark


def spec_of(func: Callable[..., Awaitable[BaseModel]]) -> ToolSpec:
    """Build the ToolSpec of a function marked with :func:`tool`."""
    flags = getattr(func, "__plantagent_tool__", None)
    if flags is None:
        raise TypeError(f"{func.__qualname__} is not marked with @tool")
    hints = get_type_hints(func)
    params = list(inspect.signature(func).parameters)
    if len(params) != 2:
        raise TypeError(f"tool {func.__name__} must take (ctx, args)")
    args_model = hints[params[1]]
    result_model = hints["return"]
    if not (isinstance(args_model, type) and issubclass(args_model, BaseModel)):
        raise TypeError(f"tool {func.__name__}: args must be a pydantic model")
    doc = inspect.getdoc(func)
    if not doc:
        raise TypeError(f"tool {func.__name__} needs a docstring: the model reads it")
    return ToolSpec(
        name=func.__name__,
        description=doc,
        args_model=args_model,
        result_model=result_model,
        func=func,
        **flags,
    )


class ToolRegistry:
    """The set of tools one agent may call, by name."""

    def __init__(self, specs: Iterable[ToolSpec] = ()) -> None:
        self._specs: dict[str, ToolSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: ToolSpec) -> None:
        """Add one tool; a second tool of the same name is a programming error."""
        if spec.name in self._specs:
            raise ValueError(f"tool {spec.name} registered twice")
        self._specs[spec.name] = spec

    def register(self, *funcs: Callable[..., Awaitable[BaseModel]]) -> None:
        """Add tools given as functions marked with @tool."""
        for func in funcs:
            self.add(spec_of(func))

    def get(self, name: str) -> ToolSpec:
        """The tool called ``name``; a UsageError lists the known ones otherwise."""
        try:
            return self._specs[name]
        except KeyError:
            raise UsageError(
                f"no tool named {name!r}", fix=f"use one of: {', '.join(sorted(self._specs))}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        """Tool names in registration order."""
        return list(self._specs)
