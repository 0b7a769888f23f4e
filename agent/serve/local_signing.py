"""Personal signatures over the socket, the client's side: sign what the service
prepared, with the caller's own key, unsealed here with their own secret (passphrase or
key file, as the in-process commands take it; never the site passphrase).

The private key exists only in this process, only while it signs. The sealed key comes
from the service (it is the caller's own, sealed under their secret, bound to their name
and key fingerprint), so a service that sent someone else's statement or key could not
make this person sign as another: the unseal fails with their secret.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.errors import ServiceError
from agent.people.keys import PERSON_CONTEXT, KeySecret, unseal_keys
from agent.people.models import PersonKey, SealedKey
from agent.people.statements import SignedStatement, signed_bytes
from agent.serve.service_messages import SignRequest

#: The caller's secret for their sealed key (asked only when a signature is wanted).
SecretSource = Callable[[SealedKey], KeySecret]


def sign_prepared(request: SignRequest, secret: SecretSource) -> SignedStatement:
    """Sign ``request.statement`` exactly as sent, with the caller's own current key."""
    statement = request.statement
    try:
        key = PersonKey.model_validate(request.key)
        sealed = SealedKey.model_validate(request.sealed)
    except ValueError:
        raise ServiceError("the service asked for a signature without a valid key",
                           fix="client and service must be the same plantagent version"
                           ) from None
    person = str(statement.get("person", ""))
    keys = unseal_keys(sealed, person, key, secret(sealed))
    signature = keys.sign(signed_bytes(statement, key.fingerprint), context=PERSON_CONTEXT)
    return SignedStatement(statement=statement, key=key.fingerprint,
                           signature=signature.to_b64())
