# SPDX-License-Identifier: Apache-2.0
"""Alembic environment: async engines, batch mode on SQLite, the models' metadata.

``bot.db.migrate`` hands us an open connection in ``config.attributes["connection"]``;
nothing here reads the environment or a URL from a file.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from bot.db import models  # noqa: F401  (registers the tables on Base.metadata)
from bot.db.base import Base, UTCDateTime


def _render_item(kind: str, obj: Any, _autogen: AutogenContext) -> str | bool:
    # UTCDateTime only converts values in Python; the column itself is a plain DateTime.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `helios-bot migrate`, not the alembic CLI")
_run(connection)
