# SPDX-License-Identifier: Apache-2.0
"""Alembic migrations; run them with ``helios-bot migrate``."""
