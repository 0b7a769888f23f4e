"""Errors of the audit log.

:class:`AuditWriteError` means a record could not be made durable: the caller must not
perform the action it was about to record (fail closed). Verification failures are
reported in a :class:`~agent.audit.verify.VerifyReport`, or raised as
:class:`agent.errors.IntegrityError` where a caller asked for a check that must pass.
"""

from __future__ import annotations

from agent.errors import PlantAgentError, UsageError


class AuditWriteError(PlantAgentError):
    """A record (or checkpoint) could not be written: do not perform the action."""


class AuditUsageError(UsageError):
    """Bad input to an audit command: a malformed checkpoint file, a bad range."""
