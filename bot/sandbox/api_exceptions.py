# SPDX-License-Identifier: Apache-2.0
"""Where Discord's or GitHub's API description is stricter than the API itself.

The simulators check every request against the published description
(:mod:`bot.sandbox.openapi`), and a request that does not validate fails the test or sandbox
run. Each entry here lets one known, harmless difference through, and says why.

An answer from a simulator that does not validate is a simulator bug, with one exception:
where the description contradicts itself (an entry names both places).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiException:
    api: str  # "discord" or "github"
    # "POST /channels/{channel_id}/messages": method and the description's template (a glob)
    route: str
    problem: str  # a regular expression searched in the problem's text
    reason: str  # why the real API accepts it


EXCEPTIONS = (
    ApiException(
        "discord",
        "*",
        r"^body: (recipient_id|(.+/)?allowed_mentions/(users|roles)/\d+): \d+ is not of type",
        "discord.py sends a DM's recipient and the users and roles a message may mention as JSON "
        "numbers. Discord reads a snowflake given as a number as well as one given as a string; "
        "the description types them as strings.",
    ),
    ApiException(
        "discord",
        "POST *",
        r"^body: attachments/\d+/id: \d+ is not of type 'string'$",
        "A new upload's attachment id is the index of its files[n] part, which discord.py "
        "sends as a JSON number, in a channel message and an interaction's follow-up alike; "
        "Discord's docs (Uploading Files) give it as a number too.",
    ),
    ApiException(
        "github",
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
        r"^body: \(top\): \[.*\] is not of type 'object'$",
        "PyGithub sends the label names as a bare array, which the description's own text "
        'allows ("You can also pass an array of labels directly") but its schema does not.',
    ),
    ApiException(
        "github",
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        r"^query parameter per_page is not described$",
        "PyGithub sends per_page with every listing; this one answers a single object, and "
        "GitHub ignores the parameter.",
    ),
    ApiException(
        "github",
        "GET /app/installations",
        r"^response 200: \d+/account: ",
        "The description contradicts itself: its copy of the installation schema here says the "
        "account is a user and an enterprise at once (allOf), the installation component "
        "(GET /repos/{owner}/{repo}/installation) says one or the other (anyOf).",
    ),
    ApiException(
        "github",
        "GET /repos/{owner}/{repo}/pulls",
        r"^response 200: \d+/labels/\d+/description: None is not of type 'string'$",
        "The description contradicts itself: a label's description may be null in the label "
        "schema and in the full pull request's labels, but not in pull-request-simple's.",
    ),
)
