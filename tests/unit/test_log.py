# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import json
import logging

import pytest

from bot.log import REDACTED, JsonFormatter, RedactingFilter, setup_logging

SECRET = "s3cr3t-token-value"


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_secrets_are_redacted_from_message_args_and_context() -> None:
    record = _record("token is %s", SECRET, url=f"https://x:{SECRET}@db")
    assert RedactingFilter([SECRET]).filter(record)
    assert record.getMessage() == f"token is {REDACTED}"
    assert SECRET not in record.url  # type: ignore[attr-defined]


def test_secrets_are_redacted_from_tracebacks() -> None:
    try:
        raise RuntimeError(f"login failed with {SECRET}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    RedactingFilter([SECRET]).filter(record)
    text = logging.Formatter().format(record)
    assert "login failed with" in text
    assert SECRET not in text


def test_any_password_in_a_url_is_redacted_known_or_not() -> None:
    url = "postgresql://u:x@db/x?sslmode=require&SSLPassword=y&api_token=z"
    record = _record("connecting to %s", url, target="mysql://root:r@@h/?secret=s")
    assert RedactingFilter([]).filter(record)
    assert record.getMessage() == (
        f"connecting to postgresql://u:{REDACTED}@db/x?sslmode=require"
        f"&SSLPassword={REDACTED}&api_token={REDACTED}"
    )
    assert record.target == f"mysql://root:{REDACTED}@h/?secret={REDACTED}"  # type: ignore[attr-defined]


def test_json_lines_carry_context() -> None:
    line = JsonFormatter().format(_record("hello %s", "world", delivery="abc"))
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["delivery"] == "abc"
    assert entry["level"] == "INFO"


def test_setup_logging_redacts_through_the_root_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", "json", [SECRET])
        logging.getLogger("bot.x").info("connecting with %s", SECRET)
        err = capsys.readouterr().err
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    assert REDACTED in err
    assert SECRET not in err


def test_pygithub_logs_once_through_our_handler(capsys: pytest.CaptureFixture[str]) -> None:
    import github  # noqa: F401 (its import gives the `github` logger a handler of its own)

    root, pygithub = logging.getLogger(), logging.getLogger("github")
    saved = root.handlers[:], root.level, pygithub.handlers[:], pygithub.level
    try:
        setup_logging("WARNING", "json", [SECRET])
        assert pygithub.handlers == []
        logging.getLogger("github.Requester").info("not shown at WARNING")
        logging.getLogger("github.GithubRetry").warning("retrying with %s", SECRET)
        lines = capsys.readouterr().err.splitlines()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        pygithub.handlers[:], pygithub.level = saved[2], saved[3]
    (line,) = lines
    entry = json.loads(line)
    assert (entry["logger"], entry["message"]) == (
        "github.GithubRetry",
        f"retrying with {REDACTED}",
    )
