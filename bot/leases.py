# SPDX-License-Identifier: Apache-2.0
"""What the lease-taking loops share (outbox senders, ingestion, the sync, the scheduler):
who holds a lease, and how long to wait before trying a failed piece of work again."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

# The lease-holder columns are String(64).
HOLDER_LENGTH = 64


def holder_name(role: str = "") -> str:
    """A name for one lease holder, unique across processes and calls: host, pid, a random
    part and ``role``. A long host name is shortened, never the unique part."""
    unique = f":{os.getpid()}:{uuid.uuid4().hex[:8]}" + (f":{role}" if role else "")
    if len(unique) > HOLDER_LENGTH // 2:
        raise ValueError(f"lease role {role!r} is too long")
    return socket.gethostname()[: HOLDER_LENGTH - len(unique)] + unique


def retry_delay(attempts: int) -> timedelta:
    """After ``attempts`` failures: 30 s after the first, doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))
