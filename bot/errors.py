# SPDX-License-Identifier: Apache-2.0
"""Domain errors: expected problems whose message is meant for the person who caused them."""

from __future__ import annotations


class DomainError(Exception):
    """Raised by services; the command error handler shows ``user_message`` privately."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


# Said by any feature that needs GitHub credentials when none are configured.
NO_GITHUB = "GitHub isn't connected here yet; please tell an organiser."
