# SPDX-License-Identifier: Apache-2.0
"""Service levels for maintainers (docs/sla.md): issues triaged and pull requests reviewed
within a target, measured on the normalised GitHub history.

``clocks``: the definitions, as pure functions of one item's history; ``scan``: the open
items' current waits and the share met within target; ``store``: each open item's current
wait, kept up to date so that a scan reads one row per item; ``records``: histories read
through indexed queries; ``feature``: the declaration.
"""

from __future__ import annotations

NAME = "sla"
