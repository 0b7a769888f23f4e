"""Translating the offline installer's errors into plantagent's tree at the boundary."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from agent.bundle.offline.errors import InstallError
from agent.errors import IntegrityError, UsageError


class BundleError(IntegrityError):
    """A bundle that failed verification (altered, unsigned, wrong key or target)."""


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Run offline-installer code, raising its InstallError as one of ours."""
    try:
        yield
    except InstallError as exc:
        if exc.code == 2:
            raise UsageError(exc.message, fix=exc.fix) from None
        raise BundleError(exc.message, fix=exc.fix) from None
