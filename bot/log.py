# SPDX-License-Identifier: Apache-2.0
"""Logging: one ``get_logger(__name__)`` per module, text or JSON lines, secrets redacted.

Nothing is configured at import time; :func:`setup_logging` is called once by the CLI.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

REDACTED = "[REDACTED]"
# A secret shorter than this (in practice only a database password: webhook secrets have at
# least 16 characters, tokens far more) would turn every line to mush if replaced wherever it
# occurs; it is hidden where it stands as a password, as any password there is.
MIN_REDACTED_EVERYWHERE = 4
# Where a value is a password whatever it is: after "user:" in a URL (up to the URL's last
# "@": an unencoded "@" in the password must not leave a part of it), and as a parameter whose
# name says it holds a secret (password, sslpassword, client_secret, token...). Schemes, user
# names, passwords and parameter names are short: the bounds keep the search of a long line,
# whatever it holds, linear.
_USERINFO_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]{0,31}://[^\s:/?#@]{0,256}:)\S{0,256}@")
SECRET_PARAMETER = re.compile(
    r"(?P<head>[?&;][^\s=&;#?]{0,64}(?:password|passwd|pwd|secret|token)[^\s=&;#?]{0,64}=)"
    r"(?P<value>[^\s&;#]*)",
    re.IGNORECASE,
)

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is context.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)


class RedactingFilter(logging.Filter):
    """Replaces every known secret value, and any password in a URL, in the rendered message
    and its context."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first so a secret that contains another is redacted whole.
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_REDACTED_EVERYWHERE}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _USERINFO_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)
        return SECRET_PARAMETER.sub(rf"\g<head>{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once, for the process that the CLI starts."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py's gateway chatter at DEBUG and alembic's per-connection notes drown the rest;
    # bot.db.migrate logs what a migration changed.
    logging.getLogger("discord").setLevel(max(root.level, logging.INFO))
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    # PyGithub gives its logger a stderr handler of its own when imported (the CLI imports it
    # before calling this), which printed each of its lines a second time, unredacted and
    # never JSON; they go through ours alone. Its DEBUG lines hold whole responses, an
    # installation token among them.
    pygithub = logging.getLogger("github")
    pygithub.handlers.clear()
    pygithub.setLevel(max(root.level, logging.INFO))
