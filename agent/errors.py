"""The one exception tree of plantagent.

Errors are split by who must act:

- :class:`ToolError` goes back to the model as a tool result it can act on (a wrong tag
  name, a server that did not answer in time). ``retryable`` says whether trying again
  may help.
- :class:`UsageError` and its children end the command and tell the person the fix.
- Foreign exceptions (asyncua, apsw, cryptography, llama_cpp) are translated into these at
  the boundary where they are raised; nothing above that boundary catches them.

No exception here logs or prints: the CLI and the UI decide how to show them.
"""

from __future__ import annotations


class PlantAgentError(Exception):
    """Base of every error plantagent raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})" if self.fix else self.message


class UsageError(PlantAgentError):
    """Bad input from a person or a file: the message names the fix."""


class ConfigError(UsageError):
    """A malformed setting, configuration or policy file."""


class ToolError(PlantAgentError):
    """A tool could not do what it was asked; the result goes back to the model."""

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        retryable: bool = False,
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__(message, fix=fix)
        self.retryable = retryable
        self.suggestions = list(suggestions or [])


class UnknownNameError(ToolError):
    """A tag, equipment or fault name that does not exist; suggestions lists close matches."""


class InvalidArgumentError(ToolError):
    """Arguments out of range (a ten-year history window, 100,000 tags)."""


class OpcUaError(ToolError):
    """The OPC UA server could not be reached, refused us, or did not answer in time."""


class OpcUaUnavailable(OpcUaError):
    """The server is down, unreachable, or hung; the client will reconnect on its own."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message, fix=fix, retryable=True)


class OpcUaSecurityError(OpcUaError):
    """A certificate or login the server or we refused."""


class WriteRefused(ToolError):
    """A write to the plant that the policy gate did not allow."""


class AlarmActionError(ToolError):
    """An alarm action the server refused, or whose result did not read back as asked:
    nothing is reported as done."""


class AlarmMethodsUnsupported(AlarmActionError):
    """The OPC UA server does not implement the Part 9 method asked for (Acknowledge,
    Confirm, AddComment, the shelving methods) on that condition."""


class ModelError(UsageError):
    """A model file missing, unlisted, truncated or tampered with, or unusable."""


class ModelOutputError(ModelError):
    """The model's output did not parse or validate against the step schema.

    ``text`` is what it generated; the loop may retry the step.
    """

    def __init__(self, message: str, *, text: str = "", fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.text = text


class VaultError(UsageError):
    """Keys or encrypted stores: wrong key, not a site, corrupt file."""


class IntegrityError(VaultError):
    """Stored data or the audit trail failed verification."""


class PolicyDenied(PlantAgentError):
    """The policy engine refused an action."""


class ServiceError(PlantAgentError):
    """The site service (`plantagent serve`) is not reachable, stopped mid-question,
    refused the caller, or another one already serves the site."""
