"""What an OPC UA Bad status answered to a request means for us, as our error.

Connection-type codes (the session or channel is gone) are retryable: the connection drops
its client and the next call starts afresh. Security codes name the setting to check.
"""

from __future__ import annotations

from asyncua import ua

from agent.errors import OpcUaError, OpcUaSecurityError, OpcUaUnavailable

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
