"""What OPC UA status codes mean for us: a Bad answer to a request as our error, and the
status of a value as a NAMUR NE 107 status.

Connection-type codes (the session or channel is gone) are retryable: the connection drops
its client and the next call starts afresh. Security codes name the setting to check.

NE 107 (the signal a device diagnosis gives) from a value's status code, its age and its
shape: Failure for a Bad value; Function check for a value someone or something stands
in for (out of service, local override, substitute, simulated, initial); Out of
specification for a value the device itself doubts (engineering units exceeded, sensor
not accurate, sub-normal, clamped, any other Uncertain) or a flat line where there was
noise; Maintenance required for a last usable value, a calibration due, or a value older
than allowed. Values in Failure or Function check are not evidence for a diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence

from asyncua import ua

from agent.errors import OpcUaError, OpcUaSecurityError, OpcUaUnavailable
from tools.opcua.models import NE107, Quality

#: Statuses of a value that stands in for the measurement (NE 107 Function check, "C").
FUNCTION_CHECK = frozenset({
    "BadOutOfService", "BadWaitingForInitialData", "GoodLocalOverride",
    "UncertainSubstituteValue", "UncertainInitialValue", "UncertainSimulatedValue",
})
#: Statuses of a value the device doubts (NE 107 Out of specification, "S").
OUT_OF_SPECIFICATION = frozenset({
    "UncertainEngineeringUnitsExceeded", "UncertainSensorNotAccurate", "UncertainSubNormal",
    "UncertainDataSubNormal", "GoodClamped", "GoodSubNormal",
})
#: Statuses of a value still usable but asking for attention (NE 107 Maintenance, "M").
MAINTENANCE_REQUIRED = frozenset({
    "UncertainLastUsableValue", "UncertainNoCommunicationLastUsableValue",
    "UncertainSensorCalibration", "UncertainConfigurationError",
})
#: The NE 107 statuses a diagnosis must not rest on.
NOT_EVIDENCE: frozenset[str] = frozenset({"failure", "function_check"})
#: Labels and one-letter symbols, as NE 107 names them.
NE107_LABELS: dict[str, str] = {
    "failure": "Failure", "function_check": "Function check",
    "out_of_specification": "Out of specification",
    "maintenance_required": "Maintenance required", "ok": "OK",
}
NE107_SYMBOLS: dict[str, str] = {
    "failure": "F", "function_check": "C", "out_of_specification": "S",
    "maintenance_required": "M", "ok": "✓",
}
#: Identical samples at the end of a noisy series that make a flat line.
FLAT_POINTS = 6


def ne107(status: str, quality: Quality, *, stale: bool = False,
          flat: bool = False) -> NE107:
    """The NE 107 status of a value with this status code name and quality."""
    if status in FUNCTION_CHECK:
        return "function_check"
    if quality == "bad":
        return "failure"
    if status in MAINTENANCE_REQUIRED:
        return "maintenance_required"
    if status in OUT_OF_SPECIFICATION or quality == "uncertain" or flat:
        return "out_of_specification"
    if stale:
        return "maintenance_required"
    return "ok"


def is_flat(values: Sequence[float], points: int = FLAT_POINTS) -> bool:
    """True when the last ``points`` values are identical although the ones before them
    varied: a transmitter that stopped following the process (a setpoint that was never
    noisy is not flat)."""
    if len(values) < points + 2:
        return False
    head, tail = values[:-points], values[-points:]
    return max(tail) - min(tail) <= 1e-12 and max(head) - min(head) > 1e-9

# Status codes that mean the session or channel is gone: drop the client, retry later.
CONNECTION_CODES = {
    ua.StatusCodes.BadTimeout,
    ua.StatusCodes.BadCommunicationError,
    ua.StatusCodes.BadConnectionClosed,
    ua.StatusCodes.BadSecureChannelClosed,
    ua.StatusCodes.BadSecureChannelIdInvalid,
    ua.StatusCodes.BadSessionClosed,
    ua.StatusCodes.BadSessionIdInvalid,
    ua.StatusCodes.BadSessionNotActivated,
    ua.StatusCodes.BadServerHalted,
    ua.StatusCodes.BadShutdown,
    ua.StatusCodes.BadNotConnected,
    ua.StatusCodes.BadServerNotConnected,
    ua.StatusCodes.BadTooManySessions,
}
# Status codes that mean a certificate or login was refused.
SECURITY_CODES = {
    ua.StatusCodes.BadSecurityChecksFailed,
    ua.StatusCodes.BadCertificateInvalid,
    ua.StatusCodes.BadCertificateUntrusted,
    ua.StatusCodes.BadCertificateUriInvalid,
    ua.StatusCodes.BadCertificateTimeInvalid,
    ua.StatusCodes.BadCertificateRevoked,
    ua.StatusCodes.BadSecurityPolicyRejected,
    ua.StatusCodes.BadSecurityModeRejected,
    ua.StatusCodes.BadIdentityTokenInvalid,
    ua.StatusCodes.BadIdentityTokenRejected,
    ua.StatusCodes.BadUserAccessDenied,
    ua.StatusCodes.BadApplicationSignatureInvalid,
}


def status_error(exc: ua.UaStatusCodeError, what: str) -> OpcUaError:
    """Our error for a Bad status the server answered with."""
    code = exc.code
    name = ua.StatusCode(code).name
    if code in SECURITY_CODES:
        return OpcUaSecurityError(
            f"the OPC UA server refused {what}: {name}",
            fix="check opcua.username/password and that the server trusts the plantagent "
            "client certificate (in <home>/pki)",
        )
    if code in CONNECTION_CODES:
        return OpcUaUnavailable(
            f"the OPC UA session ended ({what}): {name}", fix="try again shortly"
        )
    return OpcUaError(f"the OPC UA server answered {name} to {what}")
