# SPDX-License-Identifier: Apache-2.0
"""Domain services: one module per feature; no discord or aiohttp imports."""
