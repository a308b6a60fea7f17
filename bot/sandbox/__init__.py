# SPDX-License-Identifier: Apache-2.0
"""Discord and GitHub API simulators on loopback, for tests and the try-it mode only."""
