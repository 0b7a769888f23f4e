"""The model's step as a typed union: call one tool (a variant per tool, with that tool's
own argument model), give the final answer, or say it cannot answer.

The same pydantic types generate the JSON schema the constrained decoder follows and
parse what the model wrote, so the pipeline never reads a step as a dict. Identifier
fields (tags, equipment) become enums of the names the browse found: the argument model
of each tool is subclassed per catalog with those fields typed as ``Literal`` of the
catalog's names, so decoding cannot invent a tag and parsing refuses one. Citations are
an enum of the evidence ids that exist at that step; with no evidence yet, a final
answer can cite nothing.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo

from agent.errors import ModelOutputError
from agent.pipeline.decoder_schema import decoder_schema
from tools.registry import ENUM_SOURCE_KEY, ToolRegistry, ToolSpec

#: The value of an identifier enum when the catalog knows no name of that kind: no call
#: can then name one.
NONE_KNOWN = "<none known>"


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCall(_Step):
    """Call one tool; each tool has its own subclass with its own argument model."""

    action: Literal["call_tool"]
    tool: str
    args: BaseModel


class FinalAnswer(_Step):
    """The answer, citing the evidence ids it rests on."""

    action: Literal["final_answer"]
    answer: str = Field(min_length=1)
    citations: list[str]


class CannotAnswer(_Step):
    """No tool can answer: why, and what would be needed."""

    action: Literal["cannot_answer"]
    reason: str = Field(min_length=1)
    needed: str = Field(min_length=1)


@dataclass(frozen=True)
class InvalidCall:
    """A call of a known tool whose arguments its model refused (a bound the grammar
    cannot hold, a validator): the tool does not run, the model is told why."""

    tool: str
    args: dict[str, Any]
    problems: list[str]


Step = ToolCall | FinalAnswer | CannotAnswer


def _enum_source(metadata: Sequence[Any]) -> str | None:
    for item in metadata:
        extra = item.json_schema_extra if isinstance(item, FieldInfo) else None
        if isinstance(extra, dict) and isinstance(extra.get(ENUM_SOURCE_KEY), str):
            return str(extra[ENUM_SOURCE_KEY])
    return None


def _names(source: str, enums: Mapping[str, Sequence[str]]) -> Any:
    names = tuple(enums.get(source, ())) or (NONE_KNOWN,)
    return Literal[names]


def _retype(annotation: Any, enums: Mapping[str, Sequence[str]]) -> Any:
    """``annotation`` with every identifier type (tools.types) replaced by a Literal."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        source = _enum_source(metadata)
        if source is not None:
            return _names(source, enums)
        return Annotated[(_retype(base, enums), *metadata)]
    if origin in (Union, UnionType):
        return Union[tuple(_retype(a, enums) for a in get_args(annotation))]  # noqa: UP007
    if origin in (list, tuple, set, frozenset):
        args = tuple(a if a is Ellipsis else _retype(a, enums) for a in get_args(annotation))
        return origin[args]
    return annotation


def _identifier_field(info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get(ENUM_SOURCE_KEY), str):
        return str(extra[ENUM_SOURCE_KEY])
    return None


def enum_args_model(
    args_model: type[BaseModel], enums: Mapping[str, Sequence[str]]
) -> type[BaseModel]:
    """A subclass of ``args_model`` whose identifier fields are enums of ``enums``; its
    instances are instances of ``args_model``, so the tool takes them as they are."""
    fields: dict[str, Any] = {}
    for name, info in args_model.model_fields.items():
        source = _identifier_field(info)
        if source is not None:
            new = copy.copy(info)
            # A name's own length bounds do not apply to a choice among names.
            new.metadata = [m for m in info.metadata
                            if not isinstance(m, annotated_types.MinLen | annotated_types.MaxLen)]
            new.json_schema_extra = None
            fields[name] = (_names(source, enums), new)
            continue
        retyped = _retype(info.annotation, enums)
        if retyped != info.annotation:
            fields[name] = (retyped, info)
    if not fields:
        return args_model
    model: type[BaseModel] = create_model(args_model.__name__, __base__=args_model, **fields)
    return model


@functools.lru_cache(maxsize=64)
def _call_variant(spec: ToolSpec, enums_key: tuple[tuple[str, tuple[str, ...]], ...]
                  ) -> type[ToolCall]:
    args = enum_args_model(spec.args_model, dict(enums_key))
    tool_type: Any = Literal[spec.name]
    model: type[ToolCall] = create_model(
        f"Call_{spec.name}", __base__=ToolCall, tool=(tool_type, ...), args=(args, ...))
    return model


def _final_variant(evidence_ids: Sequence[str]) -> type[FinalAnswer]:
    citations: Any
    if evidence_ids:
        ids: Any = Literal[tuple(evidence_ids)]
        citations = (list[ids], Field(min_length=1))
    else:
        citations = (list[str], Field(max_length=0))
    model: type[FinalAnswer] = create_model("FinalAnswer", __base__=FinalAnswer,
                                            citations=citations)
    return model


def _union(options: Sequence[Any], discriminator: str) -> Any:
    if len(options) == 1:
        return options[0]
    return Annotated[Union[tuple(options)], Field(discriminator=discriminator)]  # noqa: UP007


class StepSpace:
    """The steps the model may take next: their decoder schema and their parser."""

    def __init__(
        self,
        registry: ToolRegistry | Sequence[ToolSpec],
        enums: Mapping[str, Sequence[str]],
        evidence_ids: Sequence[str],
        *,
        allow_tools: bool = True,
        allow_cannot_answer: bool = True,
    ) -> None:
        specs = list(registry) if allow_tools else []
        key = tuple(sorted((k, tuple(v)) for k, v in enums.items()))
        self.calls = {spec.name: _call_variant(spec, key) for spec in specs}
        options: list[Any] = []
        if self.calls:
            options.append(_union(list(self.calls.values()), "tool"))
        options.append(_final_variant(evidence_ids))
        if allow_cannot_answer:
            options.append(CannotAnswer)
        self.adapter: TypeAdapter[Any] = TypeAdapter(_union(options, "action"))
        self.schema = decoder_schema(self.adapter.json_schema())
        if "oneOf" not in self.schema:
            self.schema = {"oneOf": [self.schema]}

    def parse(self, data: Any) -> Step | InvalidCall:
        """The typed step from decoded JSON ``data``; an InvalidCall when a known tool's
        argument model refuses the arguments; ModelOutputError for anything else."""
        try:
            step = self.adapter.validate_python(data)
        except ValidationError as exc:
            invalid = self._invalid_call(data, exc)
            if invalid is None:
                raise ModelOutputError(
                    "the model's step does not parse: " + "; ".join(_summary(exc)),
                    text=str(data)[:500], fix="retry the step") from None
            return invalid
        assert isinstance(step, ToolCall | FinalAnswer | CannotAnswer)
        return step

    def _invalid_call(self, data: Any, exc: ValidationError) -> InvalidCall | None:
        if not isinstance(data, dict) or data.get("action") != "call_tool":
            return None
        tool = data.get("tool")
        args = data.get("args")
        if tool not in self.calls or not isinstance(args, dict):
            return None
        prefix = ("call_tool", tool, "args") if len(self.calls) > 1 else ("call_tool", "args")
        errors = exc.errors()
        if not all(tuple(e["loc"][:len(prefix)]) == prefix for e in errors):
            return None
        return InvalidCall(str(tool), args, [
            f"{'.'.join(map(str, e['loc'][len(prefix):])) or 'args'}: {e['msg']}"
            for e in errors][:5])


def _summary(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()][:5]


def parse_args(spec: ToolSpec, args: Mapping[str, Any]) -> BaseModel:
    """Arguments of a call the system plans itself (prefetch), as the tool's model."""
    return spec.args_model.model_validate(dict(args))
