# SPDX-License-Identifier: Apache-2.0
"""The HTTP side: health, readiness and metrics (webhooks and the dashboard join later)."""
