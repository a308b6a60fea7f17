# SPDX-License-Identifier: Apache-2.0
"""GitHub webhook signatures: HMAC-SHA256 of the raw body, in ``X-Hub-Signature-256``."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when ``header`` is the signature of ``body`` under any of ``secrets``.

    Several secrets are accepted so that a secret can be rotated without losing deliveries.
    Every comparison is constant-time.
    """
    if not header or not header.startswith(PREFIX):
        return False
    given = header.encode("ascii", errors="replace")
    matched = False
    for secret in secrets:
        # No early exit: the time taken does not reveal which secret matched.
        matched |= hmac.compare_digest(sign(body, secret).encode(), given)
    return matched
