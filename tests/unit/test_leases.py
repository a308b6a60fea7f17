# SPDX-License-Identifier: Apache-2.0
"""Lease holders fit their columns without losing what makes them unique; one back-off."""

from __future__ import annotations

import os
import re
import socket
from datetime import timedelta

import pytest

from bot.leases import HOLDER_LENGTH, holder_name, retry_delay


def test_a_long_host_name_is_shortened_never_the_unique_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "node-" + "x" * 250 + ".cluster.local")
    names = {holder_name("ingest") for _ in range(50)}
    assert len(names) == 50  # two holders in one process never share a name
    for name in names:
        assert len(name) == HOLDER_LENGTH
        assert re.fullmatch(rf"node-x+:{os.getpid()}:[0-9a-f]{{8}}:ingest", name)


def test_a_short_host_name_is_kept_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "bot-1")
    assert re.fullmatch(rf"bot-1:{os.getpid()}:[0-9a-f]{{8}}", holder_name())


def test_a_role_too_long_to_leave_room_for_the_host_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        holder_name("r" * 40)


def test_retries_back_off_from_30_seconds_doubling_to_an_hour() -> None:
    delays = [retry_delay(attempts) for attempts in (1, 2, 3, 7, 8, 20)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 1920, 3600, 3600)]
