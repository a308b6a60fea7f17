# SPDX-License-Identifier: Apache-2.0
"""GitHub's JSON objects for the simulated state, shared by the REST API and the webhooks.

Shapes follow GitHub's documented objects closely enough to validate against the published
webhook JSON Schemas (@octokit/webhooks-schemas) and to be parsed by PyGithub.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from bot.sandbox.github.state import (
        Comment,
        GitHubState,
        Installation,
        Issue,
        IssueEvent,
        Label,
        Repository,
        Review,
        ReviewComment,
        User,
    )

JSON = dict[str, Any]

# Templated URL suffixes every repository object carries ({name} -> "{/name}" on GitHub).
_REPO_URLS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def ts(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, second precision, as GitHub writes timestamps."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


class Renderer:
    def __init__(self, state: GitHubState) -> None:
        self._state = state

    @property
    def api(self) -> str:
        return self._state.api_url

    @property
    def web(self) -> str:
        return self._state.web_url

    # --- people and places ----------------------------------------------------------------

    def user(self, user: User) -> JSON:
        base = f"{self.api}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id(user.type, user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}",
            "gravatar_id": "",
            "url": base,
            "html_url": f"{self.web}/{user.login}",
            "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": user.type,
            "site_admin": user.site_admin,
        }

    def full_user(self, user: User) -> JSON:
        """GET /users/{login}: the summary plus profile fields."""
        owned = [r for r in self._state.repos.values() if r.owner.id == user.id]
        return {
            **self.user(user),
            "name": user.name,
            "email": user.email,
            "company": None,
            "blog": "",
            "location": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": len([r for r in owned if not r.private]),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": ts(user.created_at),
            "updated_at": ts(user.created_at),
        }

    def private_user(self, user: User) -> JSON:
        """GET /user: the authenticated user, with what only they may see."""
        owned = [r for r in self._state.repos.values() if r.owner.id == user.id]
        private = len([r for r in owned if r.private])
        return {
            **self.full_user(user),
            "private_gists": 0,
            "total_private_repos": private,
            "owned_private_repos": private,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": False,
        }

    def full_org(self, org: User) -> JSON:
        """GET /orgs/{org}: the summary plus the organisation's profile and counts."""
        owned = [r for r in self._state.repos.values() if r.owner.id == org.id]
        return {
            **self.org(org),
            "name": org.name,
            "html_url": f"{self.web}/{org.login}",
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": len([r for r in owned if not r.private]),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "type": "Organization",
            "created_at": ts(org.created_at),
            "updated_at": ts(org.created_at),
            "archived_at": None,
        }

    def org(self, org: User) -> JSON:
        base = f"{self.api}/orgs/{org.login}"
        return {
            "login": org.login,
            "id": org.id,
            "node_id": node_id("Organization", org.id),
            "url": base,
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events",
            "hooks_url": f"{base}/hooks",
            "issues_url": f"{base}/issues",
            "members_url": f"{base}/members{{/member}}",
            "public_members_url": f"{base}/public_members{{/member}}",
            "avatar_url": f"{self.web}/avatars/u/{org.id}",
            "description": None,
        }

    def repo(self, repo: Repository) -> JSON:
        base = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.web}/{repo.full_name}"
        open_count = len([i for i in repo.issues.values() if i.state == "open"])
        data: JSON = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": repo.description,
            "fork": False,
            "url": base,
        }
        data.update({key: base + suffix for key, suffix in _REPO_URLS.items()})
        data.update(
            {
                "created_at": ts(repo.created_at),
                "updated_at": ts(repo.updated_at),
                "pushed_at": ts(repo.updated_at),
                "git_url": f"{html}.git".replace("http", "git", 1),
                "ssh_url": f"git@localhost:{repo.full_name}.git",
                "clone_url": f"{html}.git",
                "svn_url": html,
                "homepage": None,
                "size": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "language": "Python",
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": False,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": False,
                "disabled": False,
                "open_issues_count": open_count,
                "license": None,
                "allow_forking": True,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": [],
                "visibility": "private" if repo.private else "public",
                "forks": 0,
                "open_issues": open_count,
                "watchers": 0,
                "default_branch": repo.default_branch,
                "custom_properties": {},
            }
        )
        return data

    def full_repo(self, repo: Repository) -> JSON:
        """GET /repos/{owner}/{repo}: the repository with its watcher and network counts."""
        return {**self.repo(repo), "network_count": 0, "subscribers_count": 0}

    def repo_lite(self, repo: Repository) -> JSON:
        """The short form used in installation payloads."""
        return {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
        }

    def installation(self, installation: Installation) -> JSON:
        base = f"{self.api}/app/installations/{installation.id}"
        account = installation.account
        return {
            "id": installation.id,
            "account": self.user(account),
            "repository_selection": installation.repository_selection,
            "access_tokens_url": f"{base}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.web}/settings/installations/{installation.id}",
            "app_id": installation.app_id,
            "app_slug": self._state.app_slug,
            "target_id": account.id,
            "target_type": "Organization" if account.type == "Organization" else "User",
            "permissions": {"issues": "write", "pull_requests": "write", "metadata": "read"},
            "events": ["issues", "issue_comment", "pull_request", "pull_request_review"],
            "created_at": ts(installation.created_at),
            "updated_at": ts(installation.created_at),
            "single_file_name": None,
            "suspended_at": None,
            "suspended_by": None,
        }

    def envelope(self, repo: Repository, sender: User) -> JSON:
        """The repository, sender, installation and organization keys of a webhook payload."""
        data: JSON = {"repository": self.repo(repo), "sender": self.user(sender)}
        installation = self._state.installation_for(repo)
        if installation is not None:
            data["installation"] = {
                "id": installation.id,
                "node_id": node_id("Installation", installation.id),
            }
        if repo.owner.type == "Organization":
            data["organization"] = self.org(repo.owner)
        return data

    # --- issues and pull requests ---------------------------------------------------------

    def label(self, repo: Repository, label: Label) -> JSON:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.api}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def _reactions(self, url: str) -> JSON:
        counts = dict.fromkeys(("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket"), 0)
        return {"url": f"{url}/reactions", "total_count": 0, **counts, "eyes": 0}

    def issue(self, repo: Repository, issue: Issue) -> JSON:
        repo_url = f"{self.api}/repos/{repo.full_name}"
        url = f"{repo_url}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        html = f"{self.web}/{repo.full_name}/{kind}/{issue.number}"
        assignees = [self.user(a) for a in issue.assignees]
        data: JSON = {
            "url": url,
            "repository_url": repo_url,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "id": issue.id,
            "node_id": node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.user),
            "labels": [self.label(repo, lb) for lb in issue.labels],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "comments": len(issue.comments),
            "created_at": ts(issue.created_at),
            "updated_at": ts(issue.updated_at),
            "closed_at": ts(issue.closed_at),
            "author_association": self._state.author_association(repo, issue.user),
            "active_lock_reason": None,
            "body": issue.body,
            "reactions": self._reactions(url),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        if issue.pull:
            pull_url = f"{repo_url}/pulls/{issue.number}"
            data["draft"] = issue.pull.draft
            data["pull_request"] = {
                "url": pull_url,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": ts(issue.pull.merged_at),
            }
        return data

    def pull(
        self, repo: Repository, issue: Issue, *, simple: bool = False, rest: bool = False
    ) -> JSON:
        """A pull request; ``simple`` drops the counters, as review webhooks and the REST
        listing do. ``rest``: the REST API's head and base repositories have no custom
        properties, the webhooks' have."""
        pull = issue.pull
        assert pull is not None, "not a pull request"
        repo_url = f"{self.api}/repos/{repo.full_name}"
        url = f"{repo_url}/pulls/{issue.number}"
        html = f"{self.web}/{repo.full_name}/pull/{issue.number}"
        issue_url = f"{repo_url}/issues/{issue.number}"
        assignees = [self.user(a) for a in issue.assignees]
        links = {
            "self": url,
            "html": html,
            "issue": issue_url,
            "comments": f"{issue_url}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": f"{repo_url}/pulls/comments{{/number}}",
            "commits": f"{url}/commits",
            "statuses": f"{repo_url}/statuses/{pull.head_sha}",
        }
        repo_json = self.repo(repo)
        if rest:
            del repo_json["custom_properties"]
        data: JSON = {
            "url": url,
            "id": issue.id,
            "node_id": node_id("PullRequest", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "created_at": ts(issue.created_at),
            "updated_at": ts(issue.updated_at),
            "closed_at": ts(issue.closed_at),
            "merged_at": ts(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "requested_reviewers": [self.user(r) for r in pull.requested_reviewers],
            "requested_teams": [],
            "labels": [self.label(repo, lb) for lb in issue.labels],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": links["statuses"],
            # Contributors push to a branch of the same repository in the simulation.
            "head": {
                "label": f"{repo.owner.login}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "user": self.user(repo.owner),
                "repo": repo_json,
            },
            "base": {
                "label": f"{repo.owner.login}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": _base_sha(repo.id),
                "user": self.user(repo.owner),
                "repo": repo_json,
            },
            "_links": {key: {"href": href} for key, href in links.items()},
            "author_association": self._state.author_association(repo, issue.user),
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if simple:
            return data
        data.update(
            {
                "merged": pull.merged_at is not None,
                "mergeable": None if issue.state == "closed" else True,
                "rebaseable": None if issue.state == "closed" else True,
                "mergeable_state": "clean" if issue.state == "open" else "unknown",
                "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                "comments": len(issue.comments),
                "review_comments": len(pull.review_comments),
                "maintainer_can_modify": False,
                "commits": pull.commits,
                "additions": 10 * pull.commits,
                "deletions": 2 * pull.commits,
                "changed_files": 1,
            }
        )
        return data

    def comment(self, repo: Repository, issue: Issue, comment: Comment) -> JSON:
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        return {
            "url": url,
            "html_url": f"{self.web}/{repo.full_name}/issues/{issue.number}"
            f"#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{issue.number}",
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "user": self.user(comment.user),
            "created_at": ts(comment.created_at),
            "updated_at": ts(comment.updated_at),
            "author_association": self._state.author_association(repo, comment.user),
            "body": comment.body,
            "reactions": self._reactions(url),
            "performed_via_github_app": None,
        }

    def review(self, repo: Repository, issue: Issue, review: Review, *, webhook: bool) -> JSON:
        """REST spells the state in capitals ("APPROVED"), webhooks in lower case."""
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
        html = f"{self.web}/{repo.full_name}/pull/{issue.number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "commit_id": review.commit_id,
            "submitted_at": ts(review.submitted_at),
            "state": review.state.lower() if webhook else review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self._state.author_association(repo, review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        }

    def review_comment(self, repo: Repository, issue: Issue, comment: ReviewComment) -> JSON:
        pulls = f"{self.api}/repos/{repo.full_name}/pulls"
        url = f"{pulls}/comments/{comment.id}"
        html = f"{self.web}/{repo.full_name}/pull/{issue.number}#discussion_r{comment.id}"
        pull_url = f"{pulls}/{issue.number}"
        return {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": node_id("PullRequestReviewComment", comment.id),
            "diff_hunk": f"@@ -{comment.line},1 +{comment.line},1 @@",
            "path": comment.path,
            "position": comment.line,
            "original_position": comment.line,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.user),
            "body": comment.body,
            "created_at": ts(comment.created_at),
            "updated_at": ts(comment.updated_at),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self._state.author_association(repo, comment.user),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_url},
            },
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": comment.line,
            "original_line": comment.line,
            "side": "RIGHT",
            "subject_type": "line",
            "reactions": self._reactions(url),
        }

    def issue_event(self, repo: Repository, event: IssueEvent, *, with_issue: bool) -> JSON:
        """An issue event; the repository-wide list embeds the issue it belongs to."""
        data: JSON = {
            "id": event.id,
            "node_id": node_id("IssueEvent", event.id),
            "url": f"{self.api}/repos/{repo.full_name}/issues/events/{event.id}",
            "actor": self.user(event.actor),
            "event": event.event,
            "commit_id": event.commit_id,
            "commit_url": None,
            "created_at": ts(event.created_at),
            "performed_via_github_app": None,
        }
        if event.label is not None:
            data["label"] = {"name": event.label.name, "color": event.label.color}
        if event.assignee is not None:
            data["assignee"] = self.user(event.assignee)
            data["assigner"] = self.user(event.actor)
        if event.requested_reviewer is not None:
            data["requested_reviewer"] = self.user(event.requested_reviewer)
            data["review_requester"] = self.user(event.actor)
        issue = repo.issues.get(event.issue_number)
        if with_issue and issue is not None:
            data["issue"] = self.issue(repo, issue)
        return data


def _base_sha(repo_id: int) -> str:
    return f"{repo_id:040x}"
