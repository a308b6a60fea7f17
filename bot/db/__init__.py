# SPDX-License-Identifier: Apache-2.0
"""The database: one source of truth for everything the bot knows and has promised to do."""
