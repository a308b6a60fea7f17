# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import json
import re
import tempfile
import typing
from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from bot.__main__ import main
from bot.config import (
    ConfigError,
    GitHubSettings,
    Settings,
    discord_refs,
    load_config,
    redact_url,
    render_settings,
    resolve_config_path,
)
from bot.log import REDACTED, RedactingFilter

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
MINIMAL = "[discord]\nguild_id = 42\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return caught.value.problems


def documented_keys(text: str) -> set[str]:
    """Dotted keys the example sets or shows commented out, and the tables it opens."""
    keys, table = set(), ""
    for line in text.splitlines():
        if found := re.match(r"^#?\s*\[\[?([\w.]+)\]\]?\s*$", line):
            table = found[1]
            keys.add(table)
        elif found := re.match(r"^#?\s*(\w+)\s*=", line):
            keys.add(f"{table}.{found[1]}" if table else found[1])
    return keys


def model_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every dotted key of a settings model, nested sections (and tables of tables) included."""

    def models(annotation: object) -> Iterator[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield annotation
        for argument in typing.get_args(annotation):
            yield from models(argument)

    for name, info in model.model_fields.items():
        yield f"{prefix}{name}"
        for nested in models(info.annotation):
            yield from model_keys(nested, f"{prefix}{name}.")


def test_example_config_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE, {"DISCORD_TOKEN": "x"})
    for name, section in config.settings:
        assert section is not None, f"config.example.toml lacks [{name}]"
    documented = documented_keys(EXAMPLE.read_text())
    assert "onboarding.areas.labels" in documented  # the walk reaches tables of tables
    missing = [key for key in model_keys(Settings) if key not in documented]
    assert missing == [], f"config.example.toml does not document {missing}"


def test_undocumented_key_is_noticed() -> None:
    text = EXAMPLE.read_text().replace("# public_url =", "# public address:")
    assert "web.public_url" not in documented_keys(text)


def test_defaults_apply_and_absent_feature_is_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), {})
    assert config.settings.discord.guild_id == 42
    assert config.settings.web.port == 8080
    assert config.settings.admin is None
    assert config.secrets.database_url.get_secret_value().startswith("sqlite+aiosqlite:///")


def test_unknown_key_is_named_with_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "[web]\nprot = 80\n")
    assert problems(path) == [f"{path}: web.prot: unknown key"]


def test_a_key_that_moved_to_another_section_says_where(tmp_path: Path) -> None:
    onboarding = (
        '[onboarding]\ncode_of_conduct_url = "c"\ncontributing_url = "c"\n'
        "help_channel_id = 4\nnewcomer_role_id = 5\nallow_unverified_link = true\n"
        "areas = [{ name = 'docs' }]\ncelebration_channel_id = 7\n"
    )
    path = write(tmp_path, MINIMAL + onboarding)
    assert problems(path) == [
        f"{path}: onboarding.celebration_channel_id: moved to [celebrations] channel_id"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[web]\nport = "eighty"\n[logging]\nlevel = "LOUD"\n')
    found = problems(path, {"GITHUB_APP_ID": "abc"})
    assert f"{path}: discord: required value is missing" in found
    assert any(p.startswith(f"{path}: web.port: ") and "'eighty'" in p for p in found)
    assert any(p.startswith(f"{path}: logging.level: ") for p in found)
    assert "environment: GITHUB_APP_ID: expected a whole number" in found


@pytest.mark.parametrize(
    ("text", "key", "variable"),
    [
        ('token = "ghp_x"\n', "discord.token", "DISCORD_TOKEN"),  # in [discord] itself
        ('[github]\ntoken = "ghp_x"\n', "github.token", "GITHUB_TOKEN"),
        ('[github]\nwebhook_secret = "ghp_x"\n', "github.webhook_secret", "GITHUB_WEBHOOK_SECRET"),
        (
            '[github]\napp_private_key = "ghp_x"\n',
            "github.app_private_key",
            "GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_PATH)",
        ),
        ('[database]\nurl = "postgresql://a:ghp_x@db/x"\n', "database.url", "DATABASE_URL"),
        ('[database]\npassword = "ghp_x"\n', "database.password", "DATABASE_URL"),
    ],
)
def test_secret_in_file_is_refused_once_with_its_variable(
    tmp_path: Path, text: str, key: str, variable: str
) -> None:
    path = write(tmp_path, MINIMAL + text)
    # One line: not also "unknown key", though the settings have no such key either.
    assert problems(path) == [
        f"{path}: {key}: secrets must not be written in the config file; "
        f"set {variable} in the environment instead"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[discord\n", "not valid TOML"),
        ("[discord]\nguild_id = 0\n", "discord.guild_id: input should be greater than 0"),
        ("[discord]\nguild_id = 1\n[admin]\n", "admin.organiser_role_id: required value"),
        ('[discord]\nguild_id = 1\n[github]\nrepositories = ["nope"]\n', "github.repositories.0"),
        (
            '[discord]\nguild_id = 1\n[github]\nprivate_repositories = ["nope"]\n',
            "github.private_repositories.0: string should match pattern",
        ),
        (
            '[discord]\nguild_id = 1\n[github]\nrepositories = ["acme/widgets"]\n'
            'organization = "helios"\nexclude = ["vault"]\n'
            'private_repositories = ["acme/widgets", "acme/vault", "helios/vault"]\n',
            "github: private_repositories: acme/vault, helios/vault not followed",
        ),
        (
            "[discord]\nguild_id = 1\n[onboarding]\ncode_of_conduct_url = 'c'\n"
            "contributing_url = 'c'\nhelp_channel_id = 2\nnewcomer_role_id = 3\n"
            "areas = [{ name = 'docs' }]\n",
            "onboarding: set github_oauth_client_id (device flow) or allow_unverified_link",
        ),
        (
            "[discord]\nguild_id = 1\n[onboarding]\ncode_of_conduct_url = 'c'\n"
            "contributing_url = 'c'\nhelp_channel_id = 2\nnewcomer_role_id = 3\n"
            "allow_unverified_link = true\nareas = [{ name = 'Docs Area' }]\n",
            "onboarding.areas.0.name: string should match pattern",
        ),
        (
            "[discord]\nguild_id = 1\n[onboarding]\ncode_of_conduct_url = 'c'\n"
            "contributing_url = 'c'\nhelp_channel_id = 2\nnewcomer_role_id = 3\n"
            "allow_unverified_link = true\nareas = [{ name = 'docs' }]\n"
            "claim_reminder_days = 14\nclaim_release_days = 7\n",
            "onboarding: claim_reminder_days must be less than claim_release_days",
        ),
        ("[discord]\nguild_id = 1\n[web]\nadmin_host = '::'\n", "web: admin_host needs admin_port"),
        (
            "[discord]\nguild_id = 1\n[web]\nport = 8080\nadmin_port = 8080\n",
            "web: admin_port must differ from port",
        ),
        (
            "[discord]\nguild_id = 1\n[web]\nwebhook_buffer_mb = 10\n",
            "web.webhook_buffer_mb: input should be greater than or equal to 25",
        ),
        (
            "[discord]\nguild_id = 1\n[web]\nbody_timeout_seconds = 0\n",
            "web.body_timeout_seconds: input should be greater than 0",
        ),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert any(expected in p for p in problems(write(tmp_path, text)))


SLA = "[discord]\nguild_id = 1\n[github]\nrepositories = ['acme/widgets']\n[sla]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SLA, "sla.triage_channel_id: required value is missing"),
        (
            SLA + "triage_channel_id = 2\ntime_zone = 'Europe/Atlantis'\n",
            "sla.time_zone: unknown time zone 'Europe/Atlantis': expected an IANA name such as "
            '"Europe/Berlin" or "America/Sao_Paulo"',
        ),
        (
            SLA + "triage_channel_id = 2\ntime_zone = '../../etc/passwd'\n",
            "sla.time_zone: unknown time zone '../../etc/passwd'",
        ),
        (SLA + "triage_channel_id = 2\ntriage_hours = 0\n", "sla.triage_hours: input should be"),
        (
            SLA + "triage_channel_id = 2\nholidays = ['christmas']\n",
            "sla.holidays.0: input should be a valid date",
        ),
        (
            SLA + "triage_channel_id = 2\n[[sla.repositories]]\nname = 'acme/gadgets'\n",
            "sla: repositories: acme/gadgets not followed (list it in github.repositories",
        ),
        (
            SLA + "triage_channel_id = 2\n[[sla.repositories]]\nname = 'acme/widgets'\n"
            "[[sla.repositories]]\nname = 'ACME/Widgets'\n",
            "sla.repositories: acme/widgets listed more than once",
        ),
        (
            SLA + "triage_channel_id = 2\n[[sla.repositories]]\nname = 'acme/widgets'\n"
            "review_hours = -1\n",
            "sla.repositories.0.review_hours: input should be greater than or equal to 1",
        ),
        (
            SLA + "triage_channel_id = 2\nquiet_hours = { start = '22:00', end = '22:00' }\n",
            "sla.quiet_hours: start and end must differ",
        ),
        (
            SLA + "triage_channel_id = 2\nquiet_hours = { start = '25:00', end = '08:00' }\n",
            "sla.quiet_hours.start: input should be in a valid time format",
        ),
        (
            SLA + "triage_channel_id = 2\nquiet_hours = { start = '22:00+02:00', end = '08:00' }\n",
            'sla.quiet_hours.start: expected a local time such as "22:00"',
        ),
        (
            SLA + "triage_channel_id = 2\nquiet_hours = { start = '22:00' }\n",
            "sla.quiet_hours.end:",
        ),
        (
            SLA + "triage_channel_id = 2\ntriagers = [3, 4, 3]\n",
            "sla.triagers: 3 listed more than once",
        ),
    ],
)
def test_bad_service_levels_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert any(expected in p for p in problems(write(tmp_path, text)))


def test_service_level_targets_per_repository(tmp_path: Path) -> None:
    text = (
        SLA + "triage_channel_id = 2\ntime_zone = 'America/Sao_Paulo'\n"
        "holidays = [2026-12-25]\n"
        "[[sla.repositories]]\nname = 'Acme/Widgets'\ntriage_hours = 12\n"
    )
    sla = load_config(write(tmp_path, text), {}).settings.sla
    assert sla is not None
    hours = timedelta(hours=1)
    assert sla.targets("acme/widgets") == (12 * hours, 48 * hours)  # review: the default
    assert sla.targets("acme/gadgets") == (24 * hours, 48 * hours)
    assert (sla.time_zone, sla.holidays, sla.business_days) == (
        "America/Sao_Paulo",
        [date(2026, 12, 25)],
        False,
    )


def test_service_level_pings_keys(tmp_path: Path) -> None:
    text = (
        SLA + "triage_channel_id = 2\nmaintainer_role_id = 3\ntriagers = [4, 5]\n"
        "quiet_hours = { start = '22:30', end = 07:00:00 }\n"
    )
    sla = load_config(write(tmp_path, text), {}).settings.sla
    assert sla is not None
    assert (sla.maintainer_role_id, sla.triagers) == (3, [4, 5])
    assert sla.quiet_hours is not None
    assert (sla.quiet_hours.start, sla.quiet_hours.end) == (time(22, 30), time(7))


def test_only_followed_repositories_are_shown_and_private_ones_when_listed() -> None:
    github = GitHubSettings(
        repositories=["acme/widgets", "acme/vault"],
        organization="helios",
        exclude=["*-legacy"],
        private_repositories=["ACME/Vault"],
    )
    assert github.shows("acme/widgets", private=False)
    assert github.shows("Helios/Engine", private=False)
    assert not github.shows("helios/engine-legacy", private=False)  # excluded
    assert not github.shows("someone/else", private=False)  # not followed
    assert not github.shows("acme/widgets", private=True)  # private, not listed
    assert github.shows("acme/vault", private=True)


@pytest.mark.parametrize(
    ("shards", "expected"),
    [
        ("shard_ids = [0]", "requires discord.shard_count"),
        (
            "shard_count = 2\nshard_ids = [0, 2]",
            "shard ids must be 0 to 1 (shard_count = 2); got [2]",
        ),
        ("shard_count = 2\nshard_ids = [-1, 1]", "got [-1]"),
        ("shard_count = 2\nshard_ids = [1, 1]", "expected distinct shard ids"),
        ("shard_count = 2\nshard_ids = []", "at least one"),
    ],
)
def test_shard_ids_must_fit_the_shard_count(tmp_path: Path, shards: str, expected: str) -> None:
    path = write(tmp_path, f"[discord]\nguild_id = 1\n{shards}\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}: discord.shard_ids: ")
    assert expected in line


def test_shards_that_fit_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "[discord]\nguild_id = 1\nshard_count = 3\nshard_ids = [2, 0]\n")
    assert load_config(path, {}).settings.discord.shard_ids == [2, 0]
    assert load_config(write(tmp_path, "[discord]\nguild_id = 1\nshard_count = 3\n"), {})


def test_check_config_exits_2_naming_shard_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[discord]\nguild_id = 1\nshard_ids = [0, 1]\n")
    assert main(["check-config", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"{path}: discord.shard_ids: requires discord.shard_count "
        "(ids run from 0 to shard_count - 1)\n"
    )


def test_missing_file_names_the_path_and_the_variable(tmp_path: Path) -> None:
    assert problems(tmp_path / "absent.toml") == [
        f"{tmp_path / 'absent.toml'}: file not found (set --config or HELIOS_BOT_CONFIG)"
    ]


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nabc\n")
    env = {
        "DISCORD_TOKEN": "tok",
        "GITHUB_APP_ID": "1234",
        "GITHUB_APP_PRIVATE_KEY_PATH": str(key_file),
        "GITHUB_WEBHOOK_SECRET": " new-webhook-secret , old-webhook-secret ,",
        "DATABASE_URL": "postgresql://bot:hunter2@db/helios",
    }
    secrets = load_config(write(tmp_path, MINIMAL), env).secrets
    assert secrets.github_app_id == 1234
    assert secrets.github_app_private_key is not None
    assert "abc" in secrets.github_app_private_key.get_secret_value()
    assert [s.get_secret_value() for s in secrets.github_webhook_secrets] == [
        "new-webhook-secret",
        "old-webhook-secret",
    ]
    assert "hunter2" in secrets.values()[0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"GITHUB_APP_ID": "12"},
            "GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (or _PATH) go together",
        ),
        (
            {"GITHUB_APP_ID": "12", "GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
            "environment: GITHUB_APP_PRIVATE_KEY_PATH: cannot read /nonexistent/key.pem",
        ),
        ({"DATABASE_URL": "mysql://x"}, "environment: DATABASE_URL: expected"),
    ],
)
def test_bad_environment_names_the_variable(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    assert any(expected in p for p in problems(write(tmp_path, MINIMAL), env))


def test_a_short_webhook_secret_is_refused_without_showing_it(tmp_path: Path) -> None:
    env = {"GITHUB_WEBHOOK_SECRET": "long-enough-webhook-secret,hunter22,abc"}
    assert problems(write(tmp_path, MINIMAL), env) == [
        "environment: GITHUB_WEBHOOK_SECRET: each secret must be at least 16 characters "
        "(got one of 8, one of 3)"
    ]


def test_rendered_settings_never_show_secrets(tmp_path: Path) -> None:
    env = {
        "DISCORD_TOKEN": "discord-secret-value",
        "GITHUB_WEBHOOK_SECRET": "hook-secret-value",
        "DATABASE_URL": "postgresql://bot:db-password@db:5432/helios",
    }
    text = render_settings(load_config(EXAMPLE, env))
    for secret in ("discord-secret-value", "hook-secret-value", "db-password"):
        assert secret not in text
    assert 'DISCORD_TOKEN = "(set, redacted)"' in text
    assert 'DATABASE_URL = "postgresql://bot:***@db:5432/helios"' in text
    assert "organiser_role_id = 100000000000000002" in text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://helios@db/x?password=s3cretpw", "postgresql://helios@db/x?password=***"),
        ("postgresql://:s3cretpw@db/x", "postgresql://:***@db/x"),
        ("postgresql://bot:s3cretpw@db:5432/x", "postgresql://bot:***@db:5432/x"),
        (
            "postgresql+asyncpg://bot@db/x?sslmode=require&PASSWORD=s3cretpw&x=1",
            "postgresql+asyncpg://bot@db/x?sslmode=require&PASSWORD=***&x=1",
        ),
        ("postgresql://bot:s3cret/p?w@db/x", "postgresql://bot:***@db/x"),  # unencoded / and ?
        ("postgresql://bot:s3cret%40pw@db/x", "postgresql://bot:***@db/x"),
        ("sqlite+aiosqlite:///data/helios.db", "sqlite+aiosqlite:///data/helios.db"),
        ("postgresql://db:5432/x", "postgresql://db:5432/x"),
        (
            "postgresql://bot@db/x?sslmode=verify-full&sslpassword=k3ypass&sslcert=/c.pem",
            "postgresql://bot@db/x?sslmode=verify-full&sslpassword=***&sslcert=/c.pem",
        ),
        (
            "postgresql://bot:pw@db/x?Client_Secret=abc;auth_token=xyz&passfile=/p",
            "postgresql://bot:***@db/x?Client_Secret=***;auth_token=***&passfile=/p",
        ),
    ],
)
def test_database_passwords_are_redacted(tmp_path: Path, url: str, shown: str) -> None:
    assert redact_url(SecretStr(url)) == shown
    config = load_config(write(tmp_path, MINIMAL), {"DATABASE_URL": url})
    assert f'DATABASE_URL = "{shown}"' in render_settings(config)


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://helios@db/x?password=s3cretpw", "s3cretpw"),
        ("postgresql://:s3cretpw@db/x", "s3cretpw"),
        ("postgresql://helios@db/x?password=s3cret%21pw", "s3cret!pw"),  # decoded, as used
        ("postgresql://helios@db/x?sslmode=require&sslpassword=k3ypass", "k3ypass"),
    ],
)
def test_database_passwords_are_redacted_from_logs(tmp_path: Path, url: str, password: str) -> None:
    secrets = load_config(write(tmp_path, MINIMAL), {"DATABASE_URL": url}).secrets
    # A driver's error quotes the password alone, not the whole URL.
    said = RedactingFilter(secrets.values()).redact(f'authentication failed: "{password}"')
    assert said == f'authentication failed: "{REDACTED}"'


def test_discord_refs_list_configured_ids(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "[admin]\norganiser_role_id = 7\nlog_channel_id = 8\n")
    refs = sorted(discord_refs(load_config(path, {}).settings))
    assert refs == [
        ("admin", "admin.log_channel_id", "channel", 8),
        ("admin", "admin.organiser_role_id", "role", 7),
    ]


def test_config_path_resolution_order() -> None:
    assert resolve_config_path("cli.toml", {"HELIOS_BOT_CONFIG": "env.toml"}) == Path("cli.toml")
    assert resolve_config_path(None, {"HELIOS_BOT_CONFIG": "env.toml"}) == Path("env.toml")
    assert resolve_config_path(None, {}) == Path("config.toml")


def outcome_of(text: bytes) -> list[str]:
    """Load a config file with this content: [] if it is valid, else the problems reported."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "c.toml"
        path.write_bytes(text)
        try:
            load_config(path, {})
        except ConfigError as exc:
            problems = exc.problems
        else:
            return []
    assert all(p.startswith(f"{path}: ") for p in problems), problems
    return problems


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_file_content_gives_a_config_or_named_problems(data: bytes) -> None:
    outcome_of(data)  # asserts inside: only ConfigError, every line names the file


# Printable text, so every generated file is valid TOML and validation itself is exercised.
printable = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)
toml_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    printable,
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["discord", "web", "database", "logging", "github", "admin", "x"]),
        st.dictionaries(printable, toml_scalars, max_size=4),
        max_size=5,
    )
)
def test_any_structure_gives_a_config_or_named_problems(
    tables: dict[str, dict[str, object]],
) -> None:
    lines = []
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{dump(k)} = {dump(v)}" for k, v in values.items()]
    problems = outcome_of("\n".join(lines).encode())
    if "discord" not in tables:
        assert f"{problems[0].split(': ')[0]}: discord: required value is missing" in problems


def test_a_short_database_password_is_redacted_where_it_is_a_password(tmp_path: Path) -> None:
    """Replacing "pw" everywhere would wreck every line; as a password, it is hidden."""
    url = "postgresql://bot:pw@db/x?sslpassword=k"
    secrets = load_config(write(tmp_path, MINIMAL), {"DATABASE_URL": url}).secrets
    redactor = RedactingFilter(secrets.values())
    assert redactor.redact(f"cannot connect to {url}") == f"cannot connect to {REDACTED}"
    said = redactor.redact("retrying postgresql://bot:pw@db2/x?sslpassword=k&pw=1 with pwd")
    assert said == (
        f"retrying postgresql://bot:{REDACTED}@db2/x?sslpassword={REDACTED}&pw=1 with pwd"
    )
