# SPDX-License-Identifier: Apache-2.0
"""Helios contributor bot: onboarding, mentorship and community health for open source."""

__version__ = "0.1.0"
