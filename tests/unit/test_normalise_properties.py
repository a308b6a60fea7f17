# SPDX-License-Identifier: Apache-2.0
"""Property tests for the parsers of outside input in bot/github/normalise.py.

Whatever JSON arrives (signed, so past the endpoint's checks), a parser returns well-typed
records or raises :class:`MalformedPayload` naming the field; never a KeyError, TypeError or
the like. Payloads are arbitrary JSON objects, and the GitHub simulator's real payloads with
fields deleted or replaced by values of the wrong type.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.github.normalise import (
    NORMALISED_EVENTS,
    Changes,
    MalformedPayload,
    closing_references,
    parse_comment,
    parse_delivery,
    parse_issue,
    parse_issue_event,
    parse_repository,
    parse_review,
    parse_time,
)
from bot.sandbox.github import GitHubState, WebhookEmitter
from tests.integration.sandbox.conftest_github import populate

# Modest counts: parsing takes microseconds, so these run in a few seconds on CI.
FEW = settings(max_examples=100, deadline=None)

# Every action the docs (docs/ingestion.md) say the bot handles, per event.
ACTIONS = {
    "issues": [
        "opened", "edited", "closed", "reopened", "labeled", "unlabeled", "assigned",
        "unassigned", "transferred", "deleted",
    ],
    "pull_request": [
        "opened", "edited", "closed", "reopened", "labeled", "unlabeled", "assigned",
        "unassigned", "review_requested", "review_request_removed", "ready_for_review",
        "converted_to_draft", "synchronize",
    ],
    "pull_request_review": ["submitted", "edited", "dismissed"],
    "issue_comment": ["created", "edited", "deleted"],
    "pull_request_review_comment": ["created", "edited", "deleted"],
    "label": ["created", "edited", "deleted"],
    "member": ["added", "edited", "removed"],
    "membership": ["added", "removed"],
    "installation": ["created", "deleted", "new_permissions_accepted", "suspend", "unsuspend"],
    "installation_repositories": ["added", "removed"],
    "repository": ["renamed", "transferred", "archived", "unarchived", "deleted"],
}  # fmt: skip

# The fields the parsers read: mutations mostly hit these, to reach every check.
READ = frozenset({
    "action", "repository", "id", "full_name", "archived", "updated_at", "issue", "pull_request",
    "number", "state", "title", "state_reason", "draft", "merged_at", "merged_by", "labels",
    "name", "assignees", "requested_reviewers", "user", "login", "type", "author_association",
    "created_at", "closed_at", "html_url", "body", "head", "sender", "changes", "new_issue",
    "new_repository", "label", "assignee", "requested_reviewer", "requested_team", "slug",
    "review", "submitted_at", "pull_request_url", "comment", "issue_url", "member", "permission",
    "to", "installation", "repositories", "repositories_added", "repositories_removed", "event",
    "actor",
})  # fmt: skip


def simulated() -> tuple[list[tuple[str, bytes]], dict[str, list[bytes]]]:
    """Every webhook kind the simulator sends, and REST objects of every kind we parse."""
    state = GitHubState(ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    emitter = WebhookEmitter("secret")
    emitter.attach(state)
    populate(state, emitter)
    deliveries = [(d.event, d.body) for d in emitter.pending if d.event in NORMALISED_EVENTS]
    for event, body in list(deliveries):
        if event == "member":  # the simulator sends no membership; it has the same member
            deliveries.append(("membership", body))
        if event == "installation_repositories":
            removed = body.replace(b'"repositories_added"', b'"repositories_removed"')
            deliveries.append((event, removed))

    render = state.render
    objects: dict[str, list[Any]] = {k: [] for k in ("issue", "review", "comment", "event")}
    objects["repository"] = [render.repo(repo) for repo in state.repos.values()]
    for repo in state.repos.values():
        for issue in repo.issues.values():
            objects["issue"].append(render.issue(repo, issue))
            objects["comment"] += [render.comment(repo, issue, c) for c in issue.comments]
            if issue.pull is not None:
                objects["issue"].append(render.pull(repo, issue))
                objects["review"] += [
                    render.review(repo, issue, r, webhook=False) for r in issue.pull.reviews
                ]
                objects["comment"] += [
                    render.review_comment(repo, issue, c) for c in issue.pull.review_comments
                ]
        events = (render.issue_event(repo, e, with_issue=True) for e in repo.events)
        objects["event"] += [e for e in events if "issue" in e]  # as sync reads them
    return deliveries, {kind: [orjson.dumps(o) for o in found] for kind, found in objects.items()}


DELIVERIES, REST_OBJECTS = simulated()

REST_PARSERS: dict[str, Callable[..., object]] = {
    "issue": parse_issue,
    "review": parse_review,
    "comment": parse_comment,
    "event": parse_issue_event,
    "repository": parse_repository,
}


def parse_rest(kind: str, obj: Any) -> object:
    parse = REST_PARSERS[kind]
    return parse(obj) if kind == "repository" else parse(obj, 7)


def rest_result(kind: str) -> Any:
    return typing.get_type_hints(REST_PARSERS[kind])["return"]


# --- strategies -------------------------------------------------------------------------------

# Strings a field might hold: times (naive, impossible, out of range in UTC), issue URLs.
SAMPLES = [
    "2026-01-05T09:00:00Z",
    "2026-01-05T09:00:00",
    "2026-02-30T00:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "https://api.github.com/repos/acme/widgets/pulls/7",
    "https://api.github.com/repos/acme/widgets/issues/\u00b2",
]
keys = st.sampled_from(sorted(READ)) | st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.just(2**64)
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(SAMPLES)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=12,
)
json_objects = st.dictionaries(keys, json_values, max_size=8)
# Values a field of any type might wrongly hold.
wrong_values = (
    st.sampled_from([None, 0, -1, 2**63, 1.5, True, "", "x", *SAMPLES, [], {}, [{}], {"id": "1"}])
    | json_values
)

Path = tuple[str | int, ...]


def nodes(value: object, path: Path = ()) -> Iterator[Path]:
    """The path of every value nested in ``value``."""
    if isinstance(value, dict):
        children: Iterable[tuple[str | int, Any]] = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return
    for key, child in children:
        yield (*path, key)
        yield from nodes(child, (*path, key))


def dotted(path: Path) -> str:
    """A path spelled as MalformedPayload spells it: ``issue.labels[0].name``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else key
    return text


def mutate(data: st.DataObject, payload: dict[str, Any]) -> Path:
    """Delete one nested value of ``payload`` or give it a wrong one; returns its path."""
    found = list(nodes(payload))
    read = [p for p in found if not isinstance(p[-1], int) and p[-1] in READ]
    path = data.draw(st.sampled_from(read if read and data.draw(st.booleans()) else found))
    parent: Any = payload
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(wrong_values)
    return path


# --- checking outcomes ------------------------------------------------------------------------


def conforms(value: object, hint: Any) -> bool:
    """Whether ``value`` is of the (record) type ``hint``, all the way down."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return any(conforms(value, arg) for arg in args)
    if origin is list:
        return type(value) is list and all(conforms(item, args[0]) for item in value)
    if origin is tuple:
        if type(value) is not tuple:
            return False
        if args[-1] is Ellipsis:
            return all(conforms(item, args[0]) for item in value)
        return len(value) == len(args) and all(map(conforms, value, args))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return type(value) is hint and all(conforms(getattr(value, k), h) for k, h in hints.items())
    if hint is datetime:  # stored as UTC: any other offset is a parsing slip
        return type(value) is datetime and value.utcoffset() == timedelta(0)
    if hint is int:  # into BIGINT columns
        return type(value) is int and -(2**63) <= value < 2**63
    if hint is type(None):
        return value is None
    return type(value) is hint


def outcome(parse: Callable[[], object], result: Any) -> MalformedPayload | None:
    """Run ``parse``: well-typed records, or the domain error (returned), nothing else."""
    try:
        parsed = parse()
    except MalformedPayload as exc:
        return well_worded(exc)
    assert conforms(parsed, result), parsed
    return None


def well_worded(error: MalformedPayload) -> MalformedPayload:
    where, path, problem = error.where, error.path, error.problem
    assert str(error) == (f"{where}: {path} {problem}" if path else f"{where} {problem}")
    assert error.problem.startswith(("is ", "should be ", "does not ")), error
    return error


# Where the parsers look when a field is missing or empty.
FALLBACKS = {
    "pull_request": "issue",
    "pull_request_url": "issue_url",
    "requested_reviewer": "requested_team",
}


def names_the_mutation(error: MalformedPayload, path: Path) -> bool:
    """The error is about the broken field, something inside it, or its fallback."""
    named = error.path
    fallback = FALLBACKS.get(str(path[-1]))
    for blamed in [path, *([(*path[:-1], fallback)] if fallback else [])]:
        if named == dotted(blamed) or named.startswith(
            (f"{dotted(blamed)}.", f"{dotted(blamed)}[")
        ):
            return True
    return False


# --- parse_delivery ---------------------------------------------------------------------------


def test_the_simulator_sends_every_event_the_normaliser_handles() -> None:
    assert {event for event, _ in DELIVERIES} == NORMALISED_EVENTS == set(ACTIONS)
    for event, body in DELIVERIES:  # the unmutated payloads are all well-formed
        assert outcome(partial(parse_delivery, event, orjson.loads(body)), Changes) is None


@FEW
@given(st.sampled_from(sorted(ACTIONS)), json_objects, st.data())
def test_any_json_object_gives_changes_or_names_a_field(
    event: str, payload: dict[str, Any], data: st.DataObject
) -> None:
    payload["action"] = data.draw(st.sampled_from(ACTIONS[event]) | json_values)
    error = outcome(partial(parse_delivery, event, payload), Changes)
    if error is not None:
        assert error.where.startswith((f"{event}.", f"{event} delivery")), error


@FEW
@given(st.sampled_from(DELIVERIES), st.data())
def test_a_broken_simulator_payload_gives_changes_or_names_the_broken_field(
    delivery: tuple[str, bytes], data: st.DataObject
) -> None:
    event, body = delivery
    payload = orjson.loads(body)
    payload["action"] = data.draw(st.sampled_from([payload.get("action"), *ACTIONS[event]]))
    intact = outcome(partial(parse_delivery, event, orjson.loads(orjson.dumps(payload))), Changes)
    path = mutate(data, payload)
    error = outcome(partial(parse_delivery, event, payload), Changes)
    # Only a payload that was fine before can blame the one change; the action decides what is
    # read at all.
    if error is not None and intact is None and path != ("action",):
        assert names_the_mutation(error, path), (error, dotted(path))


@FEW
@given(st.sampled_from(DELIVERIES), st.data())
def test_several_broken_fields_give_changes_or_the_domain_error(
    delivery: tuple[str, bytes], data: st.DataObject
) -> None:
    event, body = delivery
    payload = orjson.loads(body)
    for _ in range(data.draw(st.integers(2, 4))):
        if payload:
            mutate(data, payload)
    outcome(partial(parse_delivery, event, payload), Changes)


@pytest.mark.parametrize("payload", [[], "x", None, 3])
def test_a_payload_that_is_no_object_is_malformed(payload: Any) -> None:
    with pytest.raises(MalformedPayload, match=r"^issues delivery should be an object, not "):
        parse_delivery("issues", payload)


def test_the_error_names_event_action_and_field() -> None:
    event, body = next((e, b) for e, b in DELIVERIES if e == "pull_request")
    payload = orjson.loads(body)
    del payload["repository"]
    action = payload["action"]
    with pytest.raises(MalformedPayload) as missing:
        parse_delivery(event, payload)
    assert str(missing.value) == f"pull_request.{action} delivery: repository is missing"
    payload = orjson.loads(body)
    payload["pull_request"]["user"]["id"] = "12"
    with pytest.raises(MalformedPayload) as mistyped:
        parse_delivery(event, payload)
    assert mistyped.value.path == "pull_request.user.id"
    assert mistyped.value.problem == "should be an integer, not a string"
    payload = orjson.loads(body)
    payload["pull_request"]["labels"] = [{"name": "bug"}, {"name": None}]
    with pytest.raises(MalformedPayload, match=r": pull_request\.labels\[1\]\.name is null$"):
        parse_delivery(event, payload)


# --- REST parsers -----------------------------------------------------------------------------


@FEW
@given(st.sampled_from(sorted(REST_PARSERS)), json_objects)
def test_any_json_object_gives_a_rest_record_or_names_a_field(
    kind: str, obj: dict[str, Any]
) -> None:
    outcome(partial(parse_rest, kind, obj), rest_result(kind))


@FEW
@given(st.sampled_from(sorted(REST_PARSERS)), st.data())
def test_a_broken_rest_object_gives_a_record_or_names_the_broken_field(
    kind: str, data: st.DataObject
) -> None:
    body = data.draw(st.sampled_from(REST_OBJECTS[kind]))
    assert outcome(partial(parse_rest, kind, orjson.loads(body)), rest_result(kind)) is None
    obj = orjson.loads(body)
    path = mutate(data, obj)
    error = outcome(partial(parse_rest, kind, obj), rest_result(kind))
    if error is not None and path != ("event",):  # the event's name decides what is read
        assert names_the_mutation(error, path), (error, dotted(path))


@pytest.mark.parametrize(
    "url",
    ["", "nope", "https://x/pulls/abc", "https://x/pulls/\u00b2", "https://x/pulls/" + "9" * 5000],
)
def test_a_comment_whose_url_ends_in_no_number_is_malformed(url: str) -> None:
    comment = orjson.loads(REST_OBJECTS["comment"][0])
    comment.pop("pull_request_url", None)
    comment["issue_url"] = url
    with pytest.raises(
        MalformedPayload, match=r"^comment: issue_url does not end in an issue number"
    ):
        parse_comment(comment, 7)


# --- parse_time and closing_references ---------------------------------------------------------


# Text shaped like a timestamp, to reach bad dates and times out of range once in UTC.
stamps = st.from_regex(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?\Z")


@FEW
@given(st.text() | stamps | json_values)
@example("0001-01-01T00:30:00+01:00")  # before year 1 in UTC
@example("9999-12-31T23:30:00-01:00")
@example("2026-01-05T09:00:00")
def test_parse_time_gives_a_utc_time_or_the_domain_error(value: object) -> None:
    try:
        moment = parse_time(value)
    except MalformedPayload as exc:
        problem = exc.problem
    else:
        assert moment is None if value is None else moment is not None and moment.tzinfo is UTC
        return
    assert problem.startswith("is not an ISO 8601 time with a time zone"), problem


@FEW
@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        # Offsets in whole minutes, as ISO 8601 (and GitHub) write them.
        timezones=st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    )
)
def test_parse_time_reads_any_zoned_iso_time(moment: datetime) -> None:
    assert parse_time(moment.isoformat()) == moment
    with pytest.raises(MalformedPayload, match="time zone"):
        parse_time(moment.replace(tzinfo=None).isoformat())


REFERENCE = re.compile(r"(?:[a-z0-9_.-]+/[a-z0-9_.-]+)?#(?:0|[1-9][0-9]{0,17})")
fragments = st.sampled_from(
    ["Fixes", "closes:", "RESOLVED", "fix", " ", "\n", "#", "#12", "#012", "Acme/Widgets#3",
     "https://github.com/a/b/issues/9", "#" + "9" * 5000, "\u017f", "\u212a", "\u0130", "\u0663"]
)  # fmt: skip


@FEW
@given(st.text() | st.lists(fragments | st.text(max_size=5), max_size=12).map("".join))
@example("Fixes #" + "9" * 5000)  # more digits than int() reads
def test_closing_references_of_any_text_are_well_formed(body: str) -> None:
    found = closing_references(body)
    assert len(set(found)) == len(found)
    for reference in found:
        assert REFERENCE.fullmatch(reference), reference


@FEW
@given(
    st.text(),
    st.sampled_from(["close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "Resolves"]),
    st.from_regex(r"\A([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?\Z"),
    st.integers(0, 2**31),
)
def test_closing_references_find_every_keyword_reference(
    before: str, keyword: str, repository: str, number: int
) -> None:
    found = closing_references(f"{before}\n{keyword} {repository}#{number}")
    assert f"{repository.lower()}#{number}" in found
