"""The one settings object of plantagent, and the one factory that builds it.

Sources, highest priority first: explicit overrides (CLI flags), environment variables
(prefix ``PLANTAGENT_``, nested sections joined with ``__``, e.g.
``PLANTAGENT_OPCUA__ENDPOINT``), the site's TOML file (``$PLANTAGENT_HOME/plantagent.toml``
or the file named by ``PLANTAGENT_CONFIG``), then the defaults below.

Nothing reads the environment at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.errors import ConfigError

CONFIG_FILE_NAME = "plantagent.toml"
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


def default_home() -> Path:
    """~/.local/share/plantagent (or $XDG_DATA_HOME/plantagent) when PLANTAGENT_HOME is unset."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "plantagent"


def _os_user() -> str:
    """The account running the command ($USER), else "operator"."""
    return os.environ.get("USER", "operator")


class Section(BaseModel):
    """A section of the settings: an unknown key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class OpcUaSettings(Section):
    """How the agent reaches the plant's OPC UA server."""

    endpoint: str = Field(
        "opc.tcp://127.0.0.1:4840/plantagent/",
        description="OPC UA endpoint URL of the plant (opc.tcp://host:port/path).",
    )
    security_policy: Literal["None", "Basic256Sha256", "Aes256_Sha256_RsaPss"] = Field(
        "None", description="Security policy; None is for loopback demos only."
    )
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = Field(
        "None", description="Message security mode; use SignAndEncrypt with a real policy."
    )
    client_certificate: Path | None = Field(
        None, description="Client certificate (DER or PEM); generated into the site if unset."
    )
    client_private_key: Path | None = Field(None, description="Private key of the certificate.")
    server_certificate: Path | None = Field(
        None,
        description="The server certificate trusted explicitly; any other server is refused.",
    )
    username: str | None = Field(None, description="User name for username login, if any.")
    password: SecretStr | None = Field(None, description="Password for username login.")
    timeout_s: float = Field(
        4.0, gt=0, le=120, description="Seconds before a request without answer is a tool error."
    )
    stale_after_s: float = Field(
        60.0, gt=0, description="A reading whose source timestamp is older than this is stale."
    )
    max_tags_per_read: int = Field(
        2000, gt=0, description="Largest number of tags one read tool call may ask for."
    )
    max_history_window_h: float = Field(
        7 * 24.0, gt=0, description="Longest history window one call may ask for, in hours."
    )
    max_history_points: int = Field(
        20000, gt=0, description="Most raw history points one call may return."
    )


class SimSettings(Section):
    """The embedded demo plant."""

    host: str = Field("127.0.0.1", description="Address the simulator listens on (loopback).")
    port: int = Field(4840, ge=0, le=65535, description="TCP port; 0 picks a free one.")
    speed: float = Field(
        1.0, gt=0, le=10000, description="Fast-forward factor: simulated seconds per real second."
    )
    tick_s: float = Field(1.0, gt=0, le=60, description="Simulated seconds per physics step.")
    seed: int = Field(7, description="Random seed of the process noise.")
    history_hours: float = Field(
        4.0, ge=0, le=48, description="Hours of history kept and pre-filled at start-up."
    )
    history_period_s: float = Field(
        10.0, ge=0.5, le=600, description="Seconds between stored history points per tag."
    )


class ModelSettings(Section):
    """The local language model."""

    name: str = Field(
        "qwen2.5-coder-0.5b-instruct-q4_k_m",
        description="Name of the chat model in the model manifest.",
    )
    directory: Path | None = Field(
        None, description="Where GGUF files live; defaults to the site's models/ directory."
    )
    threads: int = Field(2, ge=1, le=256, description="CPU threads for inference.")
    context_tokens: int = Field(4096, ge=512, description="Context window to allocate.")
    backend: Literal["llama_cpp", "openai"] = Field(
        "llama_cpp", description="llama_cpp runs in process; openai uses an on-site server."
    )
    openai_base_url: str | None = Field(
        None, description="Base URL of an on-site OpenAI-compatible server (llama.cpp, vLLM)."
    )
    server_flavor: Literal["auto", "llama-cpp-python", "llama-server", "vllm", "openai"] = (
        Field("auto", description="How the server constrains output to the step schema; "
              "auto asks the server what it is.")
    )
    server_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="Seconds to wait for the inference server's reply."
    )
    server_slot: int | None = Field(
        None, ge=0, description="llama-server slot to pin requests to (its prompt cache)."
    )


class AgentSettings(Section):
    """Limits of the agent loop."""

    max_steps: int = Field(8, ge=1, le=64, description="Most model steps for one question.")
    time_budget_s: float = Field(300.0, gt=0, description="Wall-clock budget of one question.")
    user: str = Field(
        default_factory=_os_user,
        description="Who is asking on a site where nobody is enrolled (else the register's "
        "person of the OS account asks; on a shared-account site, the enrolled person named "
        "here, with their own key).",
    )
    role: str = Field("shift_lead", description="The asker's role, as the policy names it "
                      "(on a site with enrolled people: used when it is one of theirs).")
    plain_readings: bool = Field(
        True, description="Answer a question that asks only for current values (\"what is "
        "the discharge pressure of P-101?\") with the system's own sentences from the "
        "readings, without a model step; false: the model writes every answer.")


class SiteSettings(Section):
    """The site's clock: its time zone and shift pattern."""

    timezone: str | None = Field(
        None, description="IANA time zone every screen and report shows times in, e.g. "
        "\"Europe/Berlin\"; unset: the machine's own.")
    shift_starts: list[str] = Field(
        default_factory=lambda: ["06:00", "14:00", "22:00"],
        description="Local start times (HH:MM) of the shifts; a handover covers one shift.")
    handover_grace_minutes: float = Field(
        60.0, ge=0, le=720, description="Within this many minutes after a shift starts, a "
        "handover covers the shift that just ended, not the new one.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                             "Europe/Berlin, America/Chicago or UTC)") from None
        return value.strip()

    @field_validator("shift_starts")
    @classmethod
    def _clock_times(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one shift start, e.g. [\"06:00\"]")
        out = []
        for text in value:
            match = _HHMM.fullmatch(text.strip())
            if match is None or int(match[1]) > 23 or int(match[2]) > 59:
                raise ValueError(f"{text!r} is not a time of day like 06:00")
            out.append(f"{int(match[1]):02d}:{match[2]}")
        if len(set(out)) != len(out):
            raise ValueError("a shift start is listed twice")
        return sorted(out)


class NetworkSettings(Section):
    """Where the process may connect besides loopback."""

    allowlist: list[str] = Field(
        default_factory=list,
        description="Site networks (CIDR) the egress guard allows besides loopback.",
    )


class AuditSettings(Section):
    """Where the audit log's signed checkpoints also go, outside the site's own files."""

    witness: str | None = Field(
        None,
        description="The external witness every signed checkpoint is also sent to, as it "
        "is made: syslog+tls://HOST:PORT (a syslog collector over TLS, RFC 5425) or "
        "dir:///PATH (a directory on another mount). Its address must be in the network "
        "allowlist. `plantagent audit verify --witness` checks the log against it.",
    )
    witness_ca: Path | None = Field(
        None,
        description="CA certificate (PEM) the syslog collector's TLS certificate must "
        "chain to; default: the system's trust store.",
    )
    witness_timeout_s: float = Field(
        3.0, gt=0, le=60, description="Seconds before an unanswered witness is retried later."
    )


class TriageSettings(Section):
    """Thresholds of automated triage (ISA-18.2 defaults for floods)."""

    flood_count: int = Field(10, ge=2, description="Alarms within flood_window_s that make "
                             "a flood (one incident with its first-out alarm).")
    flood_window_s: float = Field(600.0, gt=0, description="Window of the flood rule.")
    flap_count: int = Field(3, ge=2, description="Activations of one condition that make it "
                            "flapping.")
    trend_horizon_s: float = Field(1800.0, gt=0, description="A tag whose trend reaches a "
                                   "limit within this time is an incident before it crosses.")
    lookback_s: float = Field(3600.0, gt=0, description="History read around an incident.")
    event_window_s: float = Field(1800.0, gt=0, description="Alarm events considered.")
    deviation: float = Field(0.1, gt=0, le=1, description="Shift from baseline (share of the "
                             "normal range) that is worth a look without an alarm.")
    deviation_margin: float = Field(2.0, gt=0, description="A deviation must also be this "
                                    "many times the largest shift the same rule saw in the "
                                    "24 h before its window, so a healthy tag's slowly "
                                    "wandering noise is no incident.")
    settle_s: float = Field(120.0, ge=0, description="An incident younger than this with too "
                            "little evidence waits for the next pass.")
    retriage_s: float = Field(300.0, ge=0, description="An incident reported as insufficient "
                              "evidence is triaged again after this long (doubled after each "
                              "look that changed nothing, at most lookback_s), or at once when "
                              "new alarms join it.")
    trends: bool = Field(True, description="Run the trend/deviation/frozen rules.")
    interval_s: float = Field(30.0, gt=0, description="Seconds between passes of the watch.")
    use_model: bool = Field(True, description="The local model writes report summaries "
                            "(checked); off: the deterministic template writes them.")


class AlarmSettings(BaseModel):
    """Alarm performance figures (ISA-18.2 / IEC 62682) and the alarm journal."""

    positions: dict[str, list[str]] = Field(
        default_factory=lambda: {"console": ["*"]},
        description="Operator positions: name -> patterns of alarm sources (tag or "
        "equipment names, '*' wildcards); an alarm counts for the first that matches.")
    acceptable_rate: float = Field(1.0, gt=0, description="Alarms per operator position "
                                   "per 10 minutes ISA-18.2 calls very likely acceptable.")
    manageable_rate: float = Field(2.0, gt=0, description="Alarms per operator position "
                                   "per 10 minutes ISA-18.2 calls the maximum manageable.")
    flood_count: int = Field(10, ge=1, description="More than this many alarms in 10 "
                             "minutes at one position is a flood.")
    chatter_count: int = Field(3, ge=2, description="Activations of one alarm within "
                               "chatter_window_s that make it chattering.")
    chatter_window_s: float = Field(60.0, gt=0, description="Window of the chatter rule.")
    fleeting_s: float = Field(1.0, gt=0, description="An alarm back to normal within this "
                              "many seconds of its activation is fleeting.")
    stale_hours: float = Field(24.0, gt=0, description="An alarm active longer is stale.")
    journal: bool = Field(True, description="Record every alarm event heard into the "
                          "site's alarm journal (the report's own history).")


class Settings(BaseSettings):
    """Everything plantagent can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="PLANTAGENT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    home: Path = Field(default_factory=default_home, description="The site directory.")
    opcua: OpcUaSettings = Field(default_factory=OpcUaSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    site: SiteSettings = Field(default_factory=SiteSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file is merged by load_settings as the lowest-priority init data, so
        # only init (overrides + file) and the environment are sources here.
        return (init_settings, env_settings)

    @property
    def models_dir(self) -> Path:
        """Where GGUF model files are looked for."""
        return self.model.directory or (self.home / "models")


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_names() -> set[str]:
    return {k.upper() for k in os.environ if k.upper().startswith("PLANTAGENT_")}


def _drop_env_covered(data: dict[str, Any], prefix: str = "PLANTAGENT_") -> dict[str, Any]:
    """Remove file values that an environment variable sets, so the environment wins."""
    env = _env_names()
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}".upper()
        if name in env:
            continue
        out[key] = _drop_env_covered(value, name + "__") if isinstance(value, dict) else value
    return out


def config_path(home: Path | None = None, explicit: Path | None = None) -> Path:
    """The TOML file settings are read from."""
    if explicit is not None:
        return explicit
    env = os.environ.get("PLANTAGENT_CONFIG")
    if env:
        return Path(env)
    home = home or Path(os.environ.get("PLANTAGENT_HOME") or default_home())
    return home / CONFIG_FILE_NAME


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from overrides, environment, the site TOML file and defaults.

    Raises ConfigError naming the file and the field when the configuration is malformed.
    """
    home_override = overrides.get("home")
    path = config_path(Path(home_override) if home_override else None, config_file)
    file_data: dict[str, Any] = {}
    if path.exists():
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"the configuration file {path} is not valid TOML: {exc}",
                fix=f"correct the syntax in {path}, or move it away to use the defaults",
            ) from None
    elif config_file is not None:
        raise ConfigError(
            f"the configuration file {config_file} does not exist",
            fix="give the path of an existing TOML file",
        )
    data = _deep_merge(_drop_env_covered(file_data), {k: v for k, v in overrides.items()})
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        where = f"{path} or the PLANTAGENT_* environment" if path.exists() else "PLANTAGENT_*"
        raise ConfigError(
            f"invalid configuration ({problems})",
            fix=f"correct these fields in {where}; `plantagent config show` prints what is in use",
        ) from None


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The valid keys at the place ``loc`` points into (its last part is the bad key)."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _problem(err: Any) -> str:
    """One validation problem in words; an unknown key names the closest valid one."""
    loc = tuple(err["loc"])
    where = ".".join(str(p) for p in loc) or "(top)"
    if err["type"] == "extra_forbidden" and loc:
        known = _known_keys(loc)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.5)
        parent = ".".join(str(p) for p in loc[:-1])
        hint = f"did you mean {(parent + '.') if parent else ''}{close[0]}?" if close else (
            f"valid keys here: {', '.join(known)}" if known else "remove it")
        return f"{where}: unknown key ({hint})"
    return f"{where}: {err['msg']}"
