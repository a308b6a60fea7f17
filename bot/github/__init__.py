# SPDX-License-Identifier: Apache-2.0
"""GitHub: the one ingestion path (webhooks and backfill) and the API client."""
