# SPDX-License-Identifier: Apache-2.0
"""Discord extensions: thin adapters between slash commands and bot.services."""
