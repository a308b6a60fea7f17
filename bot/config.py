# SPDX-License-Identifier: Apache-2.0
"""Typed configuration: settings from a TOML file, secrets only from the environment.

Every problem is reported at once, one line each, naming the file (or the environment) and the
key, so an operator fixes a config in one pass. Unknown keys are errors: a typo must never
silently turn a feature off. A feature's section is optional and its absence turns it off.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.log import SECRET_PARAMETER

DEFAULT_CONFIG_PATH = "config.toml"
CONFIG_ENV = "HELIOS_BOT_CONFIG"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/helios.db"
# Anyone who guesses the webhook secret can feed the bot GitHub events; a short one is
# guessed, and is too short for the log redactor to hide wherever it appears.
MIN_WEBHOOK_SECRET = 16

# Key names that look like secrets; such a key in the TOML file is refused with a pointer to
# the environment variable that should hold it.
_SECRET_KEY = re.compile(r"(token|secret|password|private_key|api_key|database_url)", re.I)


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DiscordRef:
    """Marks a config field as a Discord id that must exist in the guild."""

    kind: Literal["channel", "role"]


Snowflake = Annotated[int, Field(gt=0, lt=2**63)]
ChannelId = Annotated[int, Field(gt=0, lt=2**63), DiscordRef("channel")]
RoleId = Annotated[int, Field(gt=0, lt=2**63), DiscordRef("role")]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscordSettings(Section):
    guild_id: Snowflake = Field(description="the community's Discord server")
    # For `helios-bot invite-url`; without it, the id is read from DISCORD_TOKEN.
    application_id: Snowflake | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None

    @field_validator("shard_ids")
    @classmethod
    def _shards_exist(cls, ids: list[int] | None, info: ValidationInfo) -> list[int] | None:
        # discord.py would only fail once connected (or silently connect the wrong shards).
        if ids is None or "shard_count" not in info.data:  # a bad shard_count is named already
            return ids
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("requires discord.shard_count (ids run from 0 to shard_count - 1)")
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"expected distinct shard ids, at least one (got {ids})")
        if outside := [i for i in ids if not 0 <= i < count]:
            raise ValueError(
                f"shard ids must be 0 to {count - 1} (shard_count = {count}); got {outside}"
            )
        return ids


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    # With admin_port, /readyz and /metrics are served there instead (on admin_host, by
    # default host); host:port keeps /github/webhook and /healthz.
    admin_host: str | None = None
    admin_port: int | None = Field(default=None, ge=0, le=65535)
    # A webhook body must arrive within this long once its headers are in (GitHub gives up
    # after 10 s); an idle connection, or one still sending its headers, is closed after
    # keepalive_seconds.
    body_timeout_seconds: float = Field(default=10, gt=0)
    keepalive_seconds: float = Field(default=75, gt=0)
    # Webhook bodies a process reads or holds at once; at least one 25 MB delivery.
    webhook_buffer_mb: int = Field(default=64, ge=25)

    @model_validator(mode="after")
    def _admin_address(self) -> WebSettings:
        if self.admin_host is not None and self.admin_port is None:
            raise ValueError("admin_host needs admin_port")
        same_host = (self.admin_host or self.host) == self.host
        if self.admin_port and same_host and self.admin_port == self.port:
            raise ValueError("admin_port must differ from port")
        return self


class DatabaseSettings(Section):
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    echo: bool = False


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class GitHubSettings(Section):
    api_url: str = "https://api.github.com"
    repositories: list[Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]] = []
    # GitHub asks integrations to space requests, writes most of all, to avoid secondary
    # rate limits; the waits happen in worker threads, never on the event loop.
    seconds_between_requests: float = Field(default=0.25, ge=0)
    seconds_between_writes: float = Field(default=1.0, ge=0)
    # Every repository of this organisation whose name matches `include` and not `exclude`
    # (shell globs) is followed too.
    organization: Annotated[str, Field(pattern=r"^[\w.-]+$")] | None = None
    include: list[str] = ["*"]
    exclude: list[str] = []
    maintainers: list[str] = []
    maintainer_teams: list[Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]] = []
    # The scheduled sync repairs webhooks that never arrived; 0 turns it off.
    sync_interval_minutes: int = Field(default=60, ge=0)
    # With a GitHub App: how often to ask GitHub to redeliver the app webhook's failed
    # deliveries (0 turns it off), and how far back to look (GitHub keeps 3 days).
    redeliver_interval_minutes: int = Field(default=10, ge=0)
    redeliver_lookback_hours: int = Field(default=6, ge=1, le=72)
    # Reviews are fetched only for pull requests updated within this many days.
    metrics_window_days: int = Field(default=180, ge=1)
    # Private repositories whose issues may be shown in Discord; other private ones' never are.
    private_repositories: list[Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]] = []

    @model_validator(mode="after")
    def _private_ones_followed(self) -> GitHubSettings:
        if unfollowed := [name for name in self.private_repositories if not self.follows(name)]:
            raise ValueError(
                f"private_repositories: {', '.join(unfollowed)} not followed (list it in "
                "repositories, or in organization with include/exclude)"
            )
        return self

    def follows(self, full_name: str) -> bool:
        """Whether ``owner/name`` is followed: listed, or in the organisation and selected."""
        wanted = full_name.lower()
        if wanted in {name.lower() for name in self.repositories}:
            return True
        owner, _, name = wanted.partition("/")
        organization = (self.organization or "").lower()
        return bool(organization) and owner == organization and self.selects(name)

    def selects(self, name: str) -> bool:
        """Whether the organisation's repository ``name`` matches include and not exclude."""

        def matches(globs: list[str]) -> bool:
            return any(fnmatchcase(name.lower(), glob.lower()) for glob in globs)

        return matches(self.include) and not matches(self.exclude)

    def shows(self, full_name: str, private: bool) -> bool:
        """Whether a repository's issues may appear in Discord (announced, recommended,
        claimed): it is followed, and public or listed in ``private_repositories``."""
        if not self.follows(full_name):
            return False
        return not private or full_name.lower() in {n.lower() for n in self.private_repositories}


class RetentionSettings(Section):
    """How long the bot keeps what it stores (docs/operations.md#retention)."""

    # Processed and ignored webhook deliveries (a processed one's body is dropped at once).
    webhook_days: int = Field(default=7, ge=1)
    # Failed deliveries keep their body for a replay this long.
    failed_webhook_days: int = Field(default=30, ge=1)
    # Messages the bot delivered, skipped or gave up on (their texts).
    outbox_days: int = Field(default=90, ge=1)
    # A member who left the server: their data is deleted after this many days (0: at once);
    # coming back in time keeps it.
    departed_member_days: int = Field(default=30, ge=0)

    @property
    def webhooks(self) -> tuple[timedelta, timedelta]:
        """How long processed or ignored deliveries, and failed ones, are kept."""
        return timedelta(days=self.webhook_days), timedelta(days=self.failed_webhook_days)


class Area(Section):
    """An area of interest a newcomer can pick, and the GitHub labels that mean it."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    description: str = ""
    labels: list[str] = []


class OnboardingSettings(Section):
    code_of_conduct_url: str
    contributing_url: str
    dev_setup_command: str = "make dev-setup"
    help_channel_id: ChannelId
    newcomer_role_id: RoleId
    areas: Annotated[list[Area], Field(min_length=1, max_length=25)]
    # The OAuth App (or GitHub App) client id used for the device flow; not a secret.
    github_oauth_client_id: str | None = None
    github_web_url: str = "https://github.com"
    # Let members type a login the bot cannot verify; such links are marked unverified.
    allow_unverified_link: bool = False
    # Issues carrying one of these labels are recommended to newcomers.
    beginner_labels: list[str] = ["good first issue"]
    # Issues with one of these labels are recommended first.
    priority_labels: list[str] = []
    # How many issues one newcomer may hold at a time.
    max_active_claims: int = Field(default=1, ge=1)
    # Repositories where newcomers cannot be assigned: a claim is a comment there instead.
    claim_by_comment: list[str] = []
    # A friendly reminder after this many days without a pull request; 0 turns it off.
    claim_reminder_days: int = Field(default=7, ge=0)
    # The issue is released for others after this many days without one; 0 turns it off.
    claim_release_days: int = Field(default=14, ge=0)

    @model_validator(mode="after")
    def _can_link(self) -> OnboardingSettings:
        if self.github_oauth_client_id is None and not self.allow_unverified_link:
            raise ValueError(
                "set github_oauth_client_id (device flow) or allow_unverified_link = true: "
                "newcomers need a way to link their GitHub account"
            )
        return self

    @model_validator(mode="after")
    def _remind_before_release(self) -> OnboardingSettings:
        if 0 < self.claim_release_days <= self.claim_reminder_days:
            raise ValueError(
                "claim_reminder_days must be less than claim_release_days, so the reminder "
                "comes before the release"
            )
        return self


class CelebrationSettings(Section):
    """A newcomer's first pull request and first merge, cheered once each."""

    # Where first merges are celebrated; none means a direct message only for the first PR.
    channel_id: ChannelId | None = None
    # Given with a short congratulation when a newcomer's first pull request is merged.
    contributor_role_id: RoleId | None = None
    # Also thank a newcomer with a comment on their first merged pull request on GitHub.
    github_welcome_comment: bool = False


# Keys that moved to another section: a config that still has one is told where it went.
MOVED_KEYS = {
    "onboarding.celebration_channel_id": "celebrations.channel_id",
    "onboarding.contributor_role_id": "celebrations.contributor_role_id",
    "onboarding.github_welcome_comment": "celebrations.github_welcome_comment",
}


class AnnouncementSettings(Section):
    """New issues announced in channels, as their webhooks arrive."""

    # Every new good-first-issue (a label in onboarding.beginner_labels, or "good first issue"
    # without [onboarding]) that nobody is assigned to, with a Claim button.
    good_first_issues_channel_id: ChannelId | None = None
    # Label -> channel: a new issue with the label is announced there ("performance" = id).
    label_channels: dict[str, ChannelId] = {}


class AdminSettings(Section):
    organiser_role_id: RoleId
    log_channel_id: ChannelId | None = None


class MentorshipSettings(Section):
    """The 30-day mentor buddy program (docs/mentorship.md)."""

    # Members with this role may `/mentor join` at once; others wait for an organiser's
    # approval (needs [admin]).
    mentor_role_id: RoleId
    # Asked for help when a newcomer is waiting because no mentor is available.
    mentors_channel_id: ChannelId
    # Each pairing gets a private thread here (a text channel both mentor and mentee can
    # see); without it the introduction goes to both by direct message.
    thread_channel_id: ChannelId | None = None
    # Mentees a mentor takes unless they say otherwise in `/mentor join`.
    default_capacity: int = Field(default=2, ge=1, le=10)
    # How long a pairing lasts, and how long Extend adds.
    pairing_days: int = Field(default=30, ge=7, le=120)
    # Days between the wrap-up (feedback, Extend) and the pairing closing (thread archived).
    wrap_up_days: int = Field(default=3, ge=1, le=14)
    # Days after the match when the mentor is asked how it is going.
    check_in_days: list[Annotated[int, Field(ge=1, le=120)]] = [2, 7, 14, 21, 28]
    # The day the mentee is asked how it is going (0: never).
    mentee_check_day: int = Field(default=7, ge=0, le=120)
    # The mentor is nudged when a mentee's pull request has waited this long for a first
    # review (0: never).
    review_nudge_hours: int = Field(default=24, ge=0)
    # Where "Need help" alerts the organisers (their [admin] role is mentioned); the mentors'
    # channel without it.
    organisers_channel_id: ChannelId | None = None

    @field_validator("check_in_days")
    @classmethod
    def _in_order(cls, days: list[int]) -> list[int]:
        return sorted(set(days))


class SlaRepository(Section):
    """Targets of one repository other than the section's (None: the section's)."""

    name: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]
    triage_hours: int | None = Field(default=None, ge=1)
    review_hours: int | None = Field(default=None, ge=1)


class QuietHours(Section):
    """Local times between which nobody is pinged (22:00 to 08:00 runs over midnight)."""

    start: time
    end: time

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError(
                'expected a local time such as "22:00": each person\'s own time zone applies'
            )
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ (they would make no quiet hours)")
        return self

    def holds(self, local: time) -> bool:
        """Whether ``local`` (a time of day) falls in the quiet hours."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


class SlaSettings(Section):
    """Service levels for maintainers: issues triaged and pull requests reviewed within a
    target (docs/sla.md)."""

    # Where the maintainers hear about items nearing or past their target.
    triage_channel_id: ChannelId
    # Hours from an issue's opening to its first maintainer action, and from a pull request
    # asking for review to a maintainer's review.
    triage_hours: int = Field(default=24, ge=1)
    review_hours: int = Field(default=48, ge=1)
    # Other targets for some repositories.
    repositories: list[SlaRepository] = []
    # Labels that bots or issue templates add: adding one is not triage.
    automatic_labels: list[str] = []
    # Count only Monday to Friday, less holidays, in time_zone.
    business_days: bool = False
    time_zone: str = "UTC"
    holidays: list[date] = []
    # Mentioned when an item has waited twice its target; its members may `/sla snooze`.
    # Without it, nobody is escalated to and nobody can snooze.
    maintainer_role_id: RoleId | None = None
    # Discord user ids taking turns, a week each (Monday to Sunday in time_zone), to be
    # pinged for items past their target that nobody linked is asked to review or assigned.
    triagers: list[Snowflake] = []
    # Nobody is pinged between these local times (their /link time zone, else time_zone):
    # a ping waits for their morning.
    quiet_hours: QuietHours | None = None

    @field_validator("triagers")
    @classmethod
    def _triagers_once(cls, triagers: list[int]) -> list[int]:
        if twice := sorted({str(t) for t in triagers if triagers.count(t) > 1}):
            raise ValueError(f"{', '.join(twice)} listed more than once")
        return triagers

    # The daily digest in the triage channel, and its local time ("HH:MM" in time_zone).
    digest: bool = True
    digest_time: str = "09:00"

    @field_validator("digest_time")
    @classmethod
    def _local_time(cls, text: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
            raise ValueError(
                f'expected a local time as "HH:MM" on the 24-hour clock, like "09:00" or '
                f'"17:30"; got {text[:20]!r}'
            )
        return text

    @property
    def digest_at(self) -> time:
        """When the digest is due each day, in time_zone."""
        return time.fromisoformat(self.digest_time)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone {name[:60]!r}: expected an IANA name such as "
                '"Europe/Berlin" or "America/Sao_Paulo"'
            ) from None
        return name

    @field_validator("repositories")
    @classmethod
    def _each_once(cls, repositories: list[SlaRepository]) -> list[SlaRepository]:
        names = [r.name.lower() for r in repositories]
        if twice := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"{', '.join(twice)} listed more than once")
        return repositories

    def targets(self, full_name: str) -> tuple[timedelta, timedelta]:
        """The triage and the review target of a repository."""
        own = next((r for r in self.repositories if r.name.lower() == full_name.lower()), None)
        triage, review = (own.triage_hours, own.review_hours) if own else (None, None)
        return (
            timedelta(hours=triage or self.triage_hours),
            timedelta(hours=review or self.review_hours),
        )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class RecognitionSettings(Section):
    """Kudos, consent and the weekly spotlight (docs/recognition.md). The organisers' commands
    (`/spotlight preview`, `skip`, `post-now`) are for `admin.organiser_role_id`."""

    # Where the weekly spotlight is posted.
    spotlight_channel_id: ChannelId
    # When, in UTC: the day of the week and "HH:MM". It covers the seven days before.
    spotlight_day: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    spotlight_time: str = "15:00"
    # People featured with an embed each (first-time mergers beyond them are still named).
    featured: int = Field(default=3, ge=1, le=3)
    # Someone featured is not featured again for this many weeks (0: any week).
    cooldown_weeks: int = Field(default=8, ge=0, le=52)
    # Leave out maintainers (github.maintainers, collaborators, OWNER/MEMBER/COLLABORATOR).
    exclude_maintainers: bool = False
    # Merged pull requests with one of these labels count as docs or tests work.
    docs_labels: list[str] = ["docs", "documentation"]
    tests_labels: list[str] = ["tests", "testing"]
    # Kudos one member may give in 24 hours.
    kudos_per_day: int = Field(default=5, ge=1, le=50)
    # What a member who never answered the consent question means: "not_featured" (the
    # respectful default) or "featured".
    silence: Literal["not_featured", "featured"] = "not_featured"
    # GitHub contributors with no verified Discord link cannot be asked: featured by their
    # GitHub login and public GitHub facts only if true.
    feature_unlinked: bool = False
    # Consent is asked this many hours before the post, when the candidates are computed.
    ask_hours_before: int = Field(default=24, ge=1, le=144)
    # Community Champions of the month just ended, announced on this day of the month at this
    # time (UTC); how many (0: none), where (None: the spotlight channel), and the role they
    # hold until the next month's (None: no role).
    champions: int = Field(default=3, ge=0, le=5)
    champions_day: int = Field(default=1, ge=1, le=28)
    champions_time: str = "15:00"
    champions_channel_id: ChannelId | None = None
    champion_role_id: RoleId | None = None

    @field_validator("spotlight_time", "champions_time")
    @classmethod
    def _utc_time(cls, text: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", text):
            raise ValueError(
                f'expected a UTC time as "HH:MM" on the 24-hour clock, like "15:00"; '
                f"got {text[:20]!r}"
            )
        return text

    @property
    def spotlight_at(self) -> time:
        """The time of day of the post, in UTC."""
        return time.fromisoformat(self.spotlight_time)

    @property
    def champions_at(self) -> time:
        return time.fromisoformat(self.champions_time)

    @property
    def weekday(self) -> int:
        """The day of the post, Monday 0."""
        return WEEKDAYS.index(self.spotlight_day)


class Settings(Section):
    discord: DiscordSettings
    web: WebSettings = WebSettings()
    database: DatabaseSettings = DatabaseSettings()
    logging: LoggingSettings = LoggingSettings()
    github: GitHubSettings = GitHubSettings()
    retention: RetentionSettings = RetentionSettings()
    # Feature sections: absent means the feature is off.
    admin: AdminSettings | None = None
    onboarding: OnboardingSettings | None = None
    celebrations: CelebrationSettings | None = None
    announcements: AnnouncementSettings | None = None
    mentorship: MentorshipSettings | None = None
    sla: SlaSettings | None = None
    recognition: RecognitionSettings | None = None

    @field_validator("sla")
    @classmethod
    def _measured_repositories_followed(
        cls, sla: SlaSettings | None, info: ValidationInfo
    ) -> SlaSettings | None:
        github = info.data.get("github")  # absent if [github] is invalid, named already
        if sla is None or github is None:
            return sla
        if unfollowed := [r.name for r in sla.repositories if not github.follows(r.name)]:
            raise ValueError(
                f"repositories: {', '.join(unfollowed)} not followed (list it in "
                "github.repositories, or in github.organization with include/exclude)"
            )
        return sla


class Secrets(BaseModel):
    """Values read from the environment only; never logged, printed or stored."""

    model_config = ConfigDict(frozen=True)

    discord_token: SecretStr | None = None
    github_token: SecretStr | None = None
    github_app_id: int | None = None
    github_app_private_key: SecretStr | None = None
    github_webhook_secrets: tuple[SecretStr, ...] = ()
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)

    def values(self) -> list[str]:
        """Every secret string, for the log redactor."""
        found = [self.database_url.get_secret_value()]
        found += url_passwords(self.database_url.get_secret_value())
        found += [s.get_secret_value() for s in self.github_webhook_secrets]
        for secret in (self.discord_token, self.github_token, self.github_app_private_key):
            if secret is not None:
                found.append(secret.get_secret_value())
        return found


@dataclass(frozen=True)
class Config:
    settings: Settings
    secrets: Secrets
    path: Path


def resolve_config_path(cli_value: str | None, env: Mapping[str, str]) -> Path:
    return Path(cli_value or env.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and combine the file and the environment, or raise ConfigError."""
    env = os.environ if env is None else env
    problems: list[str] = []
    raw: dict[str, Any] = {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: file not found (set --config or {CONFIG_ENV})")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot be read: {exc}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML: {exc}")
    if problems:
        raise ConfigError(problems)

    secret_keys = list(_secret_keys(raw))
    for key in secret_keys:
        problems.append(
            f"{path}: {key}: secrets must not be written in the config file; "
            f"set {_secret_variable(key)} in the environment instead"
        )
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        # A secret's key is also unknown to the model: the line above says all there is.
        problems += [f"{path}: {line}" for line in _describe(exc, skip=set(secret_keys))]
    secrets, env_problems = _secrets_from_env(env)
    problems += env_problems
    if problems or settings is None:
        raise ConfigError(problems)
    return Config(settings=settings, secrets=secrets, path=path)


def _secret_keys(table: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _secret_keys(value, f"{dotted}.")
        elif _SECRET_KEY.search(key) or dotted == "database.url":
            yield dotted


def _secret_variable(key: str) -> str:
    """The environment variable that holds the secret a config key looks like."""
    name = key.rsplit(".", 1)[-1].lower()
    if "webhook" in name or ("github" in key and "secret" in name):
        return "GITHUB_WEBHOOK_SECRET"
    if "private_key" in name:
        return "GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_PATH)"
    if "password" in name or "database" in key:
        return "DATABASE_URL"
    if "token" in name and "discord" in key:
        return "DISCORD_TOKEN"
    if "token" in name and "github" in key:
        return "GITHUB_TOKEN"
    return "its variable (the list is at the top of config.example.toml)"


def _describe(exc: ValidationError, skip: Collection[str] = ()) -> list[str]:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if key in skip:
            continue
        kind = error["type"]
        if kind == "extra_forbidden" and key in MOVED_KEYS:
            lines.append(f"{key}: moved to [{MOVED_KEYS[key].replace('.', '] ', 1)}")
        elif kind == "extra_forbidden":
            lines.append(f"{key}: unknown key")
        elif kind == "missing":
            lines.append(f"{key}: required value is missing")
        elif kind == "value_error":
            lines.append(f"{key}: {error['ctx']['error']}")
        else:
            lines.append(f"{key}: {error['msg'].lower()} (got {error['input']!r})")
    return lines


def _secrets_from_env(env: Mapping[str, str]) -> tuple[Secrets, list[str]]:
    problems: list[str] = []

    def secret(name: str) -> SecretStr | None:
        value = env.get(name, "").strip()
        return SecretStr(value) if value else None

    app_id: int | None = None
    if raw_app_id := env.get("GITHUB_APP_ID", "").strip():
        if raw_app_id.isdigit():
            app_id = int(raw_app_id)
        else:
            problems.append("environment: GITHUB_APP_ID: expected a whole number")

    private_key = secret("GITHUB_APP_PRIVATE_KEY")
    if private_key is None and (key_path := env.get("GITHUB_APP_PRIVATE_KEY_PATH", "").strip()):
        try:
            private_key = SecretStr(Path(key_path).read_text(encoding="utf-8"))
        except OSError as exc:
            problems.append(
                f"environment: GITHUB_APP_PRIVATE_KEY_PATH: cannot read {key_path}: {exc.strerror}"
            )
    if (app_id is None) != (private_key is None) and not problems:
        problems.append(
            "environment: GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (or _PATH) go together; "
            "only one is set"
        )

    webhook_secrets = tuple(
        SecretStr(part.strip())
        for part in env.get("GITHUB_WEBHOOK_SECRET", "").split(",")
        if part.strip()
    )
    lengths = [len(secret.get_secret_value()) for secret in webhook_secrets]
    if short := [n for n in lengths if n < MIN_WEBHOOK_SECRET]:
        problems.append(
            f"environment: GITHUB_WEBHOOK_SECRET: each secret must be at least "
            f"{MIN_WEBHOOK_SECRET} characters (got {', '.join(f'one of {n}' for n in short)})"
        )
    database_url = secret("DATABASE_URL") or SecretStr(DEFAULT_DATABASE_URL)
    if not database_url.get_secret_value().startswith(("sqlite", "postgres")):
        problems.append("environment: DATABASE_URL: expected a sqlite:// or postgresql:// URL")
    secrets = Secrets(
        discord_token=secret("DISCORD_TOKEN"),
        github_token=secret("GITHUB_TOKEN"),
        github_app_id=app_id,
        github_app_private_key=private_key,
        github_webhook_secrets=webhook_secrets,
        database_url=database_url,
    )
    return secrets, problems


def discord_refs(settings: Settings) -> Iterator[tuple[str, str, str, int]]:
    """(feature, key, kind, id) for every configured Discord id, for the start-up check."""
    for feature, section in settings:
        if not isinstance(section, Section):
            continue
        for key, info in type(section).model_fields.items():
            value = getattr(section, key)
            if get_origin(info.annotation) is dict:  # a map of names to ids
                ref = _discord_ref([], get_args(info.annotation)[1])
                if ref is not None:
                    for name, item in value.items():
                        yield feature, f"{feature}.{key}.{name}", ref.kind, item
                continue
            ref = _discord_ref(info.metadata, info.annotation)
            if ref is not None and value is not None:
                yield feature, f"{feature}.{key}", ref.kind, value


def _discord_ref(metadata: list[Any], annotation: Any) -> DiscordRef | None:
    # An optional id (`ChannelId | None`) keeps its marker inside the union's Annotated member.
    for item in metadata:
        if isinstance(item, DiscordRef):
            return item
    for member in [annotation, *get_args(annotation)]:
        if get_origin(member) is Annotated:
            found = _discord_ref(list(get_args(member)[1:]), None)
            if found is not None:
                return found
    return None


def render_settings(config: Config) -> str:
    """The resolved settings as TOML-like text, secrets shown only as set or not set."""
    lines = [f"# resolved from {config.path}"]
    for name, section in config.settings:
        if section is None:
            lines += ["", f"# [{name}] not configured: feature off"]
            continue
        lines += ["", f"[{name}]"]
        for key, value in section.model_dump().items():
            lines.append(
                f"# {key} is not set" if value is None else f"{key} = {_toml_value(value)}"
            )
    lines += ["", "[environment]"]
    for name, value in (
        ("DISCORD_TOKEN", config.secrets.discord_token),
        ("GITHUB_TOKEN", config.secrets.github_token),
        ("GITHUB_APP_ID", config.secrets.github_app_id),
        ("GITHUB_APP_PRIVATE_KEY", config.secrets.github_app_private_key),
    ):
        state = "(set, redacted)" if value else "(not set)"
        lines.append(f'{name} = "{state}"')
    count = len(config.secrets.github_webhook_secrets)
    lines.append(f'GITHUB_WEBHOOK_SECRET = "({count} secret(s) set, redacted)"')
    lines.append(f"DATABASE_URL = {_toml_value(redact_url(config.secrets.database_url))}")
    return "\n".join(lines) + "\n"


# user:password@ right after the scheme. The password runs to the last "@", as an unencoded
# "/", "?" or "@" in it must not leave a part of it printed (a rare "@" later in the URL
# hides more than needed, which is the safe way to be wrong).
_USERINFO = re.compile(
    r"^(?P<head>[A-Za-z][\w+.-]*://[^:/?#@]*:)(?P<password>.*)@(?P<tail>[^@]*)$", re.S
)


def url_passwords(url: str) -> list[str]:
    """Every password in a database URL (the userinfo's, and any parameter whose name says it
    holds a secret: password, sslpassword...), as written and decoded, for the log redactor."""
    found = []
    if userinfo := _USERINFO.match(url):
        found.append(userinfo["password"])
        url = userinfo["tail"]
    found += [match["value"] for match in SECRET_PARAMETER.finditer(url)]
    return [form for raw in found if raw for form in dict.fromkeys((raw, unquote_plus(raw)))]


def redact_url(url: SecretStr) -> str:
    """A database URL with its passwords (userinfo, secret parameters) hidden, safe to print."""
    value = url.get_secret_value()
    head = ""
    if userinfo := _USERINFO.match(value):
        head, value = f"{userinfo['head']}***@", userinfo["tail"]
    return head + SECRET_PARAMETER.sub(r"\g<head>***", value)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date):  # a TOML local date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # TOML has no null: a key left unset is left out
        shown = [f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(shown) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
