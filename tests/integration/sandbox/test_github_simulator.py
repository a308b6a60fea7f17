# SPDX-License-Identifier: Apache-2.0
"""The GitHub simulator, exercised through the real PyGithub client and plain HTTP.

PyGithub is synchronous and the simulator runs in the test's event loop, so every PyGithub
call goes through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
import github
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import GithubException, GithubRetry

from bot.clock import ManualClock, SystemClock
from bot.sandbox.github import GitHubSimulator, sign
from tests.integration.sandbox.conftest_github import SECRET, TOKEN

T = TypeVar("T")
REPO = "acme/widgets"
ISSUES_ROUTE = "GET /repos/{owner}/{repo}/issues"


async def run(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


@pytest.fixture
async def sim() -> AsyncIterator[GitHubSimulator]:
    async with GitHubSimulator(ManualClock(), webhook_secret=SECRET) as simulator:
        simulator.add_token(TOKEN, "helios-bot")
        simulator.state.add_org("acme", members=["maintainer"])
        simulator.state.create_repo(REPO)
        yield simulator


@pytest.fixture
def connect(sim: GitHubSimulator) -> Iterator[Callable[..., github.Github]]:
    """Build PyGithub clients for ``sim``: no retries and no throttling unless asked for."""
    clients: list[github.Github] = []

    def make(token: str = TOKEN, **options: Any) -> github.Github:
        settings: dict[str, Any] = {
            "per_page": 100,
            "retry": None,
            "seconds_between_requests": None,
            "seconds_between_writes": None,
        }
        settings.update(options)
        client = github.Github(base_url=sim.api_url, auth=github.Auth.Token(token), **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- issues, pull requests, events ----------------------------------------------------------


async def test_issue_pagination_uses_exactly_one_request_per_page(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    for n in range(250):
        sim.state.open_issue(REPO, "alice", f"Issue {n}")
    repo = await run(lambda: connect().get_repo(REPO))
    sim.counter.reset()

    issues = await run(lambda: list(repo.get_issues(state="all")))

    assert [i.number for i in issues] == list(range(250, 0, -1))  # newest first by default
    assert sim.counter.by_route[ISSUES_ROUTE] == 3  # 100 + 100 + 50
    assert sim.counter.total == 3


async def test_link_header_has_next_last_prev_first(sim: GitHubSimulator) -> None:
    for n in range(5):
        sim.state.open_issue(REPO, "alice", f"Issue {n}")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{sim.api_url}/repos/{REPO}/issues?per_page=2&page=2"
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        body = await response.json()
        link = response.headers["Link"]
        rate_headers = {k: v for k, v in response.headers.items() if k.startswith("X-RateLimit")}
    assert [i["number"] for i in body] == [3, 2]
    rels = dict(reversed(part.split("; ")) for part in link.split(", "))
    assert set(rels) == {'rel="prev"', 'rel="next"', 'rel="last"', 'rel="first"'}
    assert "page=3" in rels['rel="next"']
    assert "page=3" in rels['rel="last"']
    assert "page=1" in rels['rel="prev"']
    assert "page=1" in rels['rel="first"']
    # As GitHub writes them: the repository by id, the request's query kept.
    by_id = f"<{sim.api_url}/repositories/{sim.state.repo(REPO).id}/issues?"
    assert all(target.startswith(by_id) for target in rels.values())
    assert all("per_page=2" in target for target in rels.values())
    assert rate_headers["X-RateLimit-Remaining"] == str(5000 - 1)
    assert rate_headers["X-RateLimit-Resource"] == "core"


async def links(sim: GitHubSimulator, path: str) -> tuple[int, dict[str, str]]:
    """The status of ``GET path`` and its Link header's targets by relation."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{sim.api_url}{path}", headers=headers) as response,
    ):
        link = response.headers.get("Link")
        found = [part.split("; ") for part in link.split(", ")] if link else []
        return response.status, {rel[5:-1]: url[1:-1] for url, rel in found}


@pytest.mark.parametrize(
    ("count", "page", "expected"),
    [
        (5, 1, {"next", "last"}),
        (5, 3, {"prev", "first"}),
        (4, 2, {"prev", "first"}),  # the last page is full: still no next
        (2, 1, set()),  # one full page
        (0, 1, set()),
    ],
)
async def test_next_is_given_exactly_when_more_pages_exist(
    sim: GitHubSimulator, count: int, page: int, expected: set[str]
) -> None:
    for n in range(count):
        sim.state.open_issue(REPO, "alice", f"Issue {n}")
    status, found = await links(sim, f"/repos/{REPO}/issues?per_page=2&page={page}")
    assert status == 200
    assert set(found) == expected


async def test_links_lead_to_the_next_page_by_repository_and_organisation_id(
    sim: GitHubSimulator,
) -> None:
    for n in range(3):
        sim.state.open_issue(REPO, "alice", f"Issue {n}")
    sim.state.create_repo("acme/gadgets")
    _, issues = await links(sim, f"/repos/{REPO}/issues?per_page=2")
    _, repos = await links(sim, "/orgs/acme/repos?per_page=1")
    assert repos["next"].startswith(
        f"{sim.api_url}/organizations/{sim.state.user('acme').id}/repos?"
    )
    sim.counter.reset()
    for target in (issues["next"], repos["next"]):
        status, _ = await links(sim, target.removeprefix(sim.api_url))
        assert status == 200
    # Counted, and checked against GitHub's description, as the routes they are.
    assert sim.counter.by_route == {ISSUES_ROUTE: 1, "GET /orgs/{org}/repos": 1}


async def test_issue_filters_state_labels_since_and_assignee(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    state = sim.state
    old = state.open_issue(REPO, "alice", "Old bug", labels=["bug"])
    clock.advance(timedelta(days=2))
    cutoff = clock.now()
    both = state.open_issue(REPO, "bob", "Easy bug", labels=["bug", "good first issue"])
    state.assign(REPO, both.number, ["carol"], actor="maintainer")
    closed = state.open_issue(REPO, "bob", "Done", labels=["bug"])
    state.close_issue(REPO, closed.number, actor="maintainer")
    pull = state.open_pull(REPO, "dave", "A fix")
    repo = await run(lambda: connect().get_repo(REPO))

    def numbers(**filters: Any) -> list[int]:
        return [i.number for i in repo.get_issues(**filters)]

    assert await run(lambda: numbers()) == [pull.number, both.number, old.number]
    assert await run(lambda: numbers(state="closed")) == [closed.number]
    labelled = await run(lambda: numbers(labels=["bug", "good first issue"]))
    assert labelled == [both.number]
    since = cutoff.replace(tzinfo=None)  # PyGithub formats naive datetimes as UTC
    assert await run(lambda: numbers(state="all", since=since)) == [
        pull.number,
        closed.number,
        both.number,
    ]
    assert await run(lambda: numbers(assignee="carol")) == [both.number]
    assert await run(lambda: numbers(assignee="none")) == [pull.number, old.number]
    oldest_first = await run(lambda: numbers(sort="created", direction="asc"))
    assert oldest_first == [old.number, both.number, pull.number]
    as_issue = await run(lambda: repo.get_issue(pull.number))
    assert as_issue.pull_request is not None  # PRs appear as issues with a pull_request key


async def test_pulls_reviews_and_review_comments(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    state = sim.state
    merged = state.open_pull(REPO, "dave", "Fix crash", draft=True)
    state.set_draft(REPO, merged.number, False, actor="dave")
    state.request_review(REPO, merged.number, "maintainer", actor="dave")
    state.request_review(REPO, merged.number, "carol", actor="dave")
    state.submit_review(REPO, merged.number, "maintainer", "CHANGES_REQUESTED", "Needs a test")
    state.review_comment(REPO, merged.number, "maintainer", "Off by one", path="a.py", line=7)
    state.submit_review(REPO, merged.number, "maintainer", "APPROVED", "LGTM")
    state.merge(REPO, merged.number, actor="maintainer")
    still_open = state.open_pull(REPO, "erin", "Docs")
    repo = await run(lambda: connect().get_repo(REPO))

    open_numbers = await run(lambda: [p.number for p in repo.get_pulls()])
    closed_numbers = await run(lambda: [p.number for p in repo.get_pulls(state="closed")])
    pull = await run(lambda: repo.get_pull(merged.number))
    reviews = await run(lambda: list(pull.get_reviews()))
    comments = await run(lambda: list(pull.get_review_comments()))
    requested, _ = await run(pull.get_review_requests)
    requested_logins = await run(lambda: [u.login for u in requested])

    assert open_numbers == [still_open.number]
    assert closed_numbers == [merged.number]
    assert pull.merged
    assert pull.merged_by.login == "maintainer"
    assert not pull.draft
    assert pull.merged_at == sim.clock.now()
    assert [(r.user.login, r.state) for r in reviews] == [
        ("maintainer", "CHANGES_REQUESTED"),
        ("maintainer", "COMMENTED"),
        ("maintainer", "APPROVED"),
    ]
    assert [(c.body, c.path, c.line) for c in comments] == [("Off by one", "a.py", 7)]
    assert requested_logins == ["carol"]  # reviewing fulfils maintainer's request
    assert pull.user.login == "dave"
    # dave now has a merged PR here, so GitHub calls him a contributor.
    assert (await run(lambda: repo.get_issue(merged.number))).raw_data[
        "author_association"
    ] == "CONTRIBUTOR"


async def test_repository_wide_issue_events_newest_first(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    state = sim.state
    first = state.open_issue(REPO, "alice", "One", labels=["bug"])
    second = state.open_issue(REPO, "bob", "Two")
    state.assign(REPO, second.number, ["carol"], actor="maintainer")
    state.unassign(REPO, second.number, ["carol"], actor="maintainer")
    state.remove_label(REPO, first.number, "bug", actor="maintainer")
    repo = await run(lambda: connect().get_repo(REPO))

    events = await run(lambda: list(repo.get_issues_events()))
    # raw_data completes each event with a GET of its own URL, so it runs in the thread too.
    summary = await run(
        lambda: [
            (e.event, e.actor.login, e.issue.number, e.raw_data.get("label", {}).get("name"))
            for e in events
        ]
    )
    assert summary == [
        ("unlabeled", "maintainer", first.number, "bug"),
        ("unassigned", "maintainer", second.number, None),
        ("assigned", "maintainer", second.number, None),
        ("labeled", "alice", first.number, "bug"),
    ]
    assert events[1].assignee.login == "carol"
    per_issue = await run(lambda: [e.event for e in repo.get_issue(second.number).get_events()])
    assert per_issue == ["assigned", "unassigned"]


async def test_assign_unassign_label_and_comment_through_rest_emit_webhooks(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    issue = sim.state.open_issue(REPO, "alice", "Help")
    sim.emitter.pending.clear()
    remote = await run(lambda: connect().get_repo(REPO).get_issue(issue.number))

    await run(lambda: remote.add_to_assignees("alice"))
    assert [a.login for a in issue.assignees] == ["alice"]
    await run(lambda: remote.remove_from_assignees("alice"))
    assert issue.assignees == []
    await run(lambda: remote.add_to_labels("good first issue"))
    comment = await run(lambda: remote.create_comment("Welcome! Take a look at CONTRIBUTING."))

    assert comment.user.login == "helios-bot"
    assert [c.body for c in issue.comments] == [comment.body]
    assert [lb.name for lb in issue.labels] == ["good first issue"]
    assert [(d.event, d.action) for d in sim.emitter.pending] == [
        ("issues", "assigned"),
        ("issues", "unassigned"),
        ("issues", "labeled"),
        ("issue_comment", "created"),
    ]
    assert all(d.payload["sender"]["login"] == "helios-bot" for d in sim.emitter.pending)


# --- errors and rate limits -----------------------------------------------------------------


async def test_bad_token_gets_401_bad_credentials(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    with pytest.raises(github.BadCredentialsException) as caught:
        await run(lambda: connect("ghp_wrong").get_repo(REPO))
    assert caught.value.status == 401
    assert caught.value.data["message"] == "Bad credentials"
    assert caught.value.headers["x-ratelimit-limit"] == "5000"  # rate headers on errors too


async def test_unknown_repo_is_404_with_documented_body(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    with pytest.raises(github.UnknownObjectException) as caught:
        await run(lambda: connect().get_repo("acme/nope"))
    assert caught.value.status == 404
    assert caught.value.data["message"] == "Not Found"
    assert caught.value.data["documentation_url"].startswith("https://docs.github.com/")


async def test_empty_comment_is_422_validation_failed(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    issue = sim.state.open_issue(REPO, "alice", "Help")
    remote = await run(lambda: connect().get_repo(REPO).get_issue(issue.number))
    with pytest.raises(GithubException) as caught:
        await run(lambda: remote.create_comment(""))
    assert caught.value.status == 422
    assert caught.value.data["message"] == "Validation Failed"
    assert caught.value.data["errors"][0]["code"] == "missing_field"


async def test_renamed_repository_redirects(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    sim.state.rename_repo(REPO, "gizmos")
    repo = await run(lambda: connect().get_repo(REPO))
    assert repo.full_name == "acme/gizmos"
    assert sim.counter.by_route["GET /repos/{owner}/{repo}"] == 2  # 301, then the new URL


async def test_primary_rate_limit_raises_without_retry(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    sim.exhaust_rate_limit(timedelta(minutes=10))
    reset = int((sim.clock.now() + timedelta(minutes=10)).timestamp())
    with pytest.raises(github.RateLimitExceededException) as caught:
        await run(lambda: connect().get_repo(REPO))
    headers = {k.lower(): v for k, v in caught.value.headers.items()}
    assert caught.value.status == 403
    assert headers["x-ratelimit-remaining"] == "0"
    assert headers["x-ratelimit-reset"] == str(reset)
    assert caught.value.data["message"].startswith("API rate limit exceeded")

    sim.exhaust_rate_limit(timedelta(minutes=10), status=429)
    with pytest.raises(GithubException) as too_many:
        await run(lambda: connect().get_repo(REPO))
    assert too_many.value.status == 429

    assert isinstance(sim.clock, ManualClock)
    sim.clock.advance(timedelta(minutes=10))  # the window resets on the simulator's clock
    repo = await run(lambda: connect().get_repo(REPO))
    assert repo.full_name == REPO
    assert repo.raw_headers["x-ratelimit-remaining"] == str(5000 - 1)


async def test_primary_rate_limit_is_waited_out_by_github_retry() -> None:
    # Real time here: PyGithub's retry compares X-RateLimit-Reset with the wall clock.
    async with GitHubSimulator(SystemClock(), webhook_secret=SECRET) as sim:
        sim.add_token(TOKEN, "helios-bot")
        sim.state.create_repo(REPO)
        sim.exhaust_rate_limit(timedelta(seconds=1))
        client = github.Github(
            base_url=sim.api_url,
            auth=github.Auth.Token(TOKEN),
            retry=GithubRetry(total=3, max_rate_limit_wait=5),
            seconds_between_requests=None,
        )
        started = time.monotonic()
        repo = await run(lambda: client.get_repo(REPO))
        client.close()
    assert repo.full_name == REPO
    assert sim.counter.by_route["GET /repos/{owner}/{repo}"] == 2
    assert time.monotonic() - started >= 0.9  # it did wait for the reset


async def test_secondary_rate_limit_sends_retry_after(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    sim.inject_secondary_rate_limit(retry_after=1)
    with pytest.raises(github.RateLimitExceededException) as caught:
        await run(lambda: connect().get_repo(REPO))
    headers = {k.lower(): v for k, v in caught.value.headers.items()}
    assert headers["retry-after"] == "1"
    assert caught.value.data["message"].startswith("You have exceeded a secondary rate limit")

    sim.inject_secondary_rate_limit(retry_after=1)
    sim.counter.reset()
    started = time.monotonic()
    repo = await run(lambda: connect(retry=GithubRetry(total=2)).get_repo(REPO))
    assert repo.full_name == REPO
    assert sim.counter.total == 2
    assert time.monotonic() - started >= 0.9  # urllib3 honoured Retry-After


async def test_injected_server_errors(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    sim.inject_error(502, path=r"/issues$")
    repo = await run(lambda: connect().get_repo(REPO))  # not matched by the path filter
    with pytest.raises(GithubException) as caught:
        await run(lambda: list(repo.get_issues()))
    assert caught.value.status == 502

    sim.inject_error(503, count=2)
    sim.counter.reset()
    retrying = connect(retry=GithubRetry(total=3, backoff_factor=0))
    assert (await run(lambda: retrying.get_repo(REPO))).full_name == REPO
    assert sim.counter.total == 3  # two 503s, then success


async def test_an_injected_error_can_follow_the_work(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    """A proxy timing out after GitHub did the work: the error, and the comment made."""
    sim.state.open_issue(REPO, "alice", "Crash on start")
    issue = await run(lambda: connect().get_repo(REPO).get_issue(1))
    sim.inject_error(502, path=r"/comments$", method="POST", applied=True)
    with pytest.raises(GithubException) as caught:
        await run(lambda: issue.create_comment("Can reproduce."))
    assert caught.value.status == 502
    assert [c.body for c in sim.state.issue(REPO, 1).comments] == ["Can reproduce."]
    assert len(await run(lambda: list(issue.get_comments()))) == 1  # a GET is not matched


# --- OAuth device flow ----------------------------------------------------------------------


async def _post(session: aiohttp.ClientSession, url: str, **form: str) -> dict[str, Any]:
    async with session.post(url, data=form, headers={"Accept": "application/json"}) as response:
        assert response.status == 200
        data: dict[str, Any] = await response.json()
        return data


async def test_device_flow_pending_slow_down_then_approved(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    token_url = f"{sim.web_url}/login/oauth/access_token"
    grant_type = "urn:ietf:params:oauth:grant-type:device_code"
    async with aiohttp.ClientSession() as session:
        code = await _post(session, f"{sim.web_url}/login/device/code", client_id="Iv1.x")
        poll = {"client_id": "Iv1.x", "device_code": code["device_code"], "grant_type": grant_type}
        first = await _post(session, token_url, **poll)
        too_fast = await _post(session, token_url, **poll)
        clock.advance(timedelta(seconds=too_fast["interval"]))
        sim.device.approve(code["user_code"], "alice")
        approved = await _post(session, token_url, **poll)
        reused = await _post(session, token_url, **poll)

    assert code["interval"] == 5
    assert code["expires_in"] == 900
    assert first["error"] == "authorization_pending"
    assert too_fast["error"] == "slow_down"
    assert too_fast["interval"] == 10
    assert approved["token_type"] == "bearer"
    assert reused["error"] == "expired_token"  # a device code is good for one token
    me = await run(lambda: connect(approved["access_token"]).get_user().login)
    assert me == "alice"


async def test_device_flow_expired_and_denied(sim: GitHubSimulator) -> None:
    clock = sim.clock
    assert isinstance(clock, ManualClock)
    token_url = f"{sim.web_url}/login/oauth/access_token"
    grant_type = "urn:ietf:params:oauth:grant-type:device_code"
    async with aiohttp.ClientSession() as session:
        late = await _post(session, f"{sim.web_url}/login/device/code", client_id="Iv1.x")
        denied = await _post(session, f"{sim.web_url}/login/device/code", client_id="Iv1.x")
        sim.device.deny(denied["user_code"])
        refused = await _post(
            session,
            token_url,
            client_id="Iv1.x",
            device_code=denied["device_code"],
            grant_type=grant_type,
        )
        clock.advance(timedelta(seconds=901))
        sim.device.approve(late["user_code"], "alice")  # too late to count
        expired = await _post(
            session,
            token_url,
            client_id="Iv1.x",
            device_code=late["device_code"],
            grant_type=grant_type,
        )
        # Without "Accept: application/json" GitHub answers form-encoded.
        async with session.post(
            token_url, data={"client_id": "Iv1.x", "device_code": "nope", "grant_type": grant_type}
        ) as response:
            form_answer = await response.text()
    assert refused["error"] == "access_denied"
    assert expired["error"] == "expired_token"
    assert form_answer.startswith("error=incorrect_device_code&")


# --- GitHub App -----------------------------------------------------------------------------


def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


async def test_app_installation_token(
    sim: GitHubSimulator, connect: Callable[..., github.Github]
) -> None:
    installation = sim.state.install_app("acme", [REPO])
    key = await asyncio.to_thread(_private_key)  # RSA key generation would block the loop
    integration = github.GithubIntegration(
        base_url=sim.api_url, auth=github.Auth.AppAuth(sim.state.app_id, key)
    )
    impostor = github.GithubIntegration(base_url=sim.api_url, auth=github.Auth.AppAuth(999, key))

    found = await run(lambda: [i.id for i in integration.get_installations()])
    for_repo = await run(lambda: integration.get_repo_installation("acme", "widgets").id)
    auth = await run(lambda: integration.get_access_token(installation.id))
    with pytest.raises(github.GithubException) as wrong_app:
        await run(lambda: impostor.get_access_token(installation.id))
    integration.close()
    impostor.close()

    assert found == [installation.id]
    assert for_repo == installation.id
    assert auth.token.startswith("ghs_")
    assert auth.expires_at == sim.clock.now() + timedelta(hours=1)
    assert wrong_app.value.status == 401
    as_app = connect(auth.token)
    issue = sim.state.open_issue(REPO, "alice", "Hi")
    comment = await run(lambda: as_app.get_repo(REPO).get_issue(issue.number).create_comment("Hi"))
    assert comment.user.login == "helios-bot[bot]"
    assert comment.user.type == "Bot"

    assert isinstance(sim.clock, ManualClock)
    sim.clock.advance(timedelta(hours=1))
    with pytest.raises(github.BadCredentialsException):
        await run(lambda: connect(auth.token).get_repo(REPO))


# --- webhooks -------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A stand-in for the bot's /github/webhook: 204 if the signature verifies, else 401."""
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received.append((dict(request.headers), body))
        expected = sign(body, SECRET)
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return web.Response(status=401)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/github/webhook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/github/webhook", received
    await runner.cleanup()


async def test_webhooks_are_signed_and_delivered_in_order(
    sim: GitHubSimulator, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    sim.emitter.target_url = url
    installation = sim.state.install_app("acme", [REPO])
    issue = sim.state.open_issue(REPO, "alice", "Crash", labels=["bug"])
    sim.state.comment(REPO, issue.number, "maintainer", "Thanks!")

    delivered = await sim.emitter.flush()

    assert [(d.event, d.action, d.status) for d in delivered] == [
        ("installation", "created", 204),
        ("issues", "opened", 204),
        ("issues", "labeled", 204),
        ("issue_comment", "created", 204),
    ]
    headers, body = received[1]
    assert headers["X-GitHub-Event"] == "issues"
    assert headers["X-Hub-Signature-256"] == sign(body, SECRET)
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-GitHub-Hook-ID"] == str(sim.emitter.hook_id)
    assert uuid.UUID(headers["X-GitHub-Delivery"])
    assert delivered[1].payload["installation"]["id"] == installation.id
    assert delivered[3].payload["comment"]["author_association"] == "MEMBER"
    assert sim.emitter.pending == []

    redelivered = await sim.emitter.deliver(delivered[1])  # GitHub keeps the delivery id
    assert redelivered.attempts == 2
    assert received[-1][0]["X-GitHub-Delivery"] == headers["X-GitHub-Delivery"]


async def test_wrong_secret_fails_verification(
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = receiver
    async with GitHubSimulator(ManualClock(), webhook_secret="not-the-secret") as sim:
        sim.emitter.target_url = url
        sim.state.create_repo(REPO)
        sim.state.open_issue(REPO, "alice", "Crash")
        delivered = await sim.emitter.flush()
    assert [d.status for d in delivered] == [401]
    headers, body = received[0]
    assert headers["X-Hub-Signature-256"] != sign(body, SECRET)


async def test_the_app_hook_logs_every_attempt_and_redelivers_on_request(
    sim: GitHubSimulator,
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
    connect: Callable[..., github.Github],
) -> None:
    url, received = receiver
    key = await asyncio.to_thread(_private_key)
    app = github.GithubIntegration(
        base_url=sim.api_url, auth=github.Auth.AppAuth(sim.state.app_id, key)
    )

    def listing(query: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        return app.requester.requestJsonAndCheck("GET", "/app/hook/deliveries", query)

    sim.emitter.target_url = "http://127.0.0.1:9/github/webhook"  # nobody listens
    sim.state.open_issue(REPO, "alice", "Lost")
    (lost,) = await sim.emitter.flush()
    sim.emitter.target_url = url
    sim.state.open_issue(REPO, "alice", "Delivered")
    await sim.emitter.flush()

    headers, newest = await run(lambda: listing({"per_page": 1}))
    assert [(d["status"], d["status_code"], d["redelivery"]) for d in newest] == [
        ("OK", 204, False)
    ]
    (link,) = re.findall(r'<([^>]+)>; rel="next"', headers["link"])
    _, older = await run(lambda: app.requester.requestJsonAndCheck("GET", link))
    assert [(d["guid"], d["status"], d["status_code"]) for d in older] == [
        (lost.delivery_id, "failed to connect", 502)
    ]
    assert older[0]["event"] == "issues"
    assert older[0]["action"] == "opened"
    _, failures = await run(lambda: listing({"status": "failure"}))
    assert [d["id"] for d in failures] == [older[0]["id"]]

    attempts = f"/app/hook/deliveries/{older[0]['id']}/attempts"
    status, _, _ = await run(lambda: app.requester.requestJson("POST", attempts))
    assert status == 202
    (again,) = await sim.emitter.flush()
    assert (again.delivery_id, again.redelivery, again.status) == (lost.delivery_id, True, 204)
    assert received[-1][0]["X-GitHub-Delivery"] == lost.delivery_id
    _, log = await run(lambda: listing({}))
    assert [(d["guid"], d["redelivery"]) for d in log] == [
        (lost.delivery_id, True),
        (received[0][0]["X-GitHub-Delivery"], False),
        (lost.delivery_id, False),
    ]

    unknown = "/app/hook/deliveries/999/attempts"
    status, _, _ = await run(lambda: app.requester.requestJson("POST", unknown))
    assert status == 404
    with pytest.raises(github.GithubException) as not_the_app:
        await run(lambda: connect().requester.requestJsonAndCheck("GET", "/app/hook/deliveries"))
    assert not_the_app.value.status == 401
    app.close()


async def test_auto_delivery_posts_as_changes_happen(
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    url, received = receiver
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    async with GitHubSimulator(
        clock, webhook_secret=SECRET, webhook_url=url, auto_deliver=True
    ) as sim:
        sim.state.create_repo(REPO)
        for n in range(3):
            sim.state.open_issue(REPO, "alice", f"Issue {n}")
        await sim.emitter.wait_delivered()
        assert [d.status for d in sim.emitter.sent] == [204, 204, 204]
    payloads = [json.loads(body) for _, body in received]
    assert [p["issue"]["title"] for p in payloads] == ["Issue 0", "Issue 1", "Issue 2"]
    assert payloads[0]["issue"]["created_at"] == "2026-03-01T00:00:00Z"  # the sim's clock
