"""The configuration reference, generated from the settings' own field descriptions.

`plantagent config reference` prints it; docs/configuration.md is its output, and a test
keeps the two the same, so the reference never drifts from the code.
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from agent.settings import CONFIG_FILE_NAME, Settings

HEADER = f"""# Configuration reference

Generated from `agent/settings.py` by `plantagent config reference` (do not edit by hand:
run `plantagent config reference --out docs/configuration.md`).

Sources, highest priority first: command-line flags, environment variables `PLANTAGENT_*`
(nested sections joined with `__`, e.g. `PLANTAGENT_OPCUA__ENDPOINT`), the site file
`$PLANTAGENT_HOME/{CONFIG_FILE_NAME}` (or the file `PLANTAGENT_CONFIG` names), then the
defaults below. An unknown key anywhere is an error that names the closest valid key.
"""


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return " or ".join(f'"{a}"' for a in get_args(annotation))
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("pathlib.", "").replace("pydantic.types.", "")


def _default(field: FieldInfo) -> str:
    factory = field.default_factory
    if factory is not None:
        if factory in (list, dict):
            return f"`{json.dumps(factory())}`"
        # A computed default depends on the machine (home directory, user name): say how.
        doc = (factory.__doc__ or "").strip().splitlines()
        return f"(computed: {doc[0]})" if doc and factory.__name__ != "<lambda>" else "(computed)"
    if field.default is PydanticUndefined:
        return "(required)"
    if field.default is None:
        return "unset"
    return f"`{json.dumps(field.default, default=str)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        env = f"PLANTAGENT_{(prefix + name).upper().replace('.', '__')}"
        rows.append(
            f"| `{name}` | {_cell(_type_name(field.annotation))} | {_cell(_default(field))} "
            f"| `{env}` | {_cell(field.description or '')} |"
        )
    return rows


def render_reference() -> str:
    """The whole reference as Markdown."""
    out = [HEADER]
    top = [n for n, f in Settings.model_fields.items()
           if not (isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel))]
    out.append("## Top level\n")
    out.append("| key | type | default | environment | meaning |\n|---|---|---|---|---|")
    out += [r for r in _rows(Settings, "") if any(r.startswith(f"| `{n}`") for n in top)]
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if not (isinstance(section, type) and issubclass(section, BaseModel)):
            continue
        doc = (section.__doc__ or "").strip().splitlines()[0] if section.__doc__ else ""
        out.append(f"\n## [{name}]\n\n{doc}\n")
        out.append("| key | type | default | environment | meaning |\n|---|---|---|---|---|")
        out += _rows(section, f"{name}.")
    return "\n".join(out) + "\n"
