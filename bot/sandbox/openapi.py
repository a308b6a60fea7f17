# SPDX-License-Identifier: Apache-2.0
"""Every call to a simulator checked against the published API description it imitates.

Discord publishes an OpenAPI 3.1 description of API v10 (discord/discord-api-spec, a pinned
copy in tests/schemas/discord/) and GitHub an OpenAPI 3.0 one (the npm package
@octokit/openapi, installed by ``make dev-setup`` into tests/schemas/node_modules/). Each
simulator runs :meth:`ApiCheck.middleware` in front of its handlers: the request is matched to
the described operation (method and path template), its path and query parameters and its
JSON body are validated, and so is the JSON answer for its status. JSON Schema 2020-12, with
``$ref``s resolved and formats asserted (date-times, URIs, integer ranges); OpenAPI 3.0's
``nullable`` becomes a ``"null"`` type.

Answers are checked more strictly than the descriptions are written: an object may carry only
the properties its schema lists, since the point is a simulator that gives only what the real
API gives. Requests are checked as written, and :mod:`bot.sandbox.api_exceptions` lists the
places where the description is stricter than the real API.

A description file is large (GitHub's is 13 MB): it is parsed once per process (with simdjson,
in tens of milliseconds; :func:`preload` does it before the event loop is busy), read lazily,
and each operation's validators are built on first use and kept. The checks run in a thread
of their own: the simulators only hand calls over.
Without the file (a checkout without ``make dev-setup``, or an installed package), or without
the ``jsonschema`` package (the dev extra), checking is off and the simulators work as before.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import json
import queue
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web
from multidict import MultiDict

from bot.log import get_logger
from bot.sandbox.api_exceptions import EXCEPTIONS

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

log = get_logger(__name__)

JSON = dict[str, Any]
Handler = Callable[[web.Request], Any]

SCHEMAS_DIR = Path(__file__).parents[2] / "tests" / "schemas"
SPEC_FILES = {
    "discord": SCHEMAS_DIR / "discord" / "openapi.json",
    "github": SCHEMAS_DIR
    / "node_modules"
    / "@octokit"
    / "openapi"
    / "generated"
    / "api.github.com.json",
}
INSTALL_HINT = {
    "discord": "it is part of the repository (tests/schemas/discord/openapi.json)",
    "github": "install it with `make dev-setup` (npm ci --prefix tests/schemas)",
}

# The JSON a handler parsed from a body that the middleware cannot read again (multipart).
SENT_JSON = web.RequestKey("sent_json", object)

_SCHEMA_REF = "#/components/schemas/"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_INT_RANGES = {"int32": 2**31, "int64": 2**63}
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
# How each API reads a boolean query parameter ("Boolean Query Strings" in Discord's docs).
BOOLEAN_WORDS = {
    "discord": {"true": True, "True": True, "1": True, "false": False, "False": False, "0": False},
    "github": {"true": True, "false": False},
}
_PARAMETER = re.compile(r"\{([^}/]+)\}")


class SpecMissing(RuntimeError):
    """A description file is not installed; the message says how to install it."""


# --- loading and translating a description --------------------------------------------------


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI.match(value))


def _email(value: object) -> bool:
    return not isinstance(value, str) or "@" in value


def _in_range(bound: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return -bound <= value < bound

    return check


def _format_checker() -> Any:
    """The formats both descriptions use, asserted (jsonschema only annotates by default)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checks: dict[str, Callable[[object], bool]] = {
        "date-time": _date_time,
        "date": _date,
        "uri": _uri,
        "email": _email,
        **{name: _in_range(bound) for name, bound in _INT_RANGES.items()},
    }
    for name, check in checks.items():
        checker.checks(name)(check)
    return checker


class Spec:
    """One OpenAPI description: its operations by path template, validators built on demand."""

    def __init__(self, name: str, path: Path) -> None:
        import simdjson

        self.name = name
        self._parser = simdjson.Parser()  # keeps the document alive: it is read lazily
        self._document = cast(Any, self._parser.load(str(path)))
        self.version = str(self._document["openapi"])
        self._nullable = self.version.startswith("3.0")  # 3.0 spells null as `nullable: true`
        self._schemas: Any = self._document["components"]["schemas"]
        self._defs: dict[tuple[str, str], Any] = {}  # (component, mode) -> translated schema
        self._operations: dict[tuple[str, str], Operation] = {}
        self._templates: dict[int, list[tuple[re.Pattern[str], list[str], str]]] = {}
        for template in self._document["paths"]:
            names = _PARAMETER.findall(template)
            literal = [re.escape(part) for part in _PARAMETER.split(template)[::2]]
            pattern = re.compile("^" + "([^/]+)".join(literal) + "$")
            self._templates.setdefault(template.count("/"), []).append((pattern, names, template))
        for candidates in self._templates.values():
            # "/users/@me" before "/users/{user_id}": the fewest parameters wins.
            candidates.sort(key=lambda item: len(item[1]))
        self._components: dict[str, Validator] = {}
        self.booleans = BOOLEAN_WORDS[name]
        self.format_checker = _format_checker()

    # operations

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving ``method path`` and the path's parameter values."""
        for pattern, names, template in self._templates.get(path.count("/"), []):
            found = pattern.match(path)
            if found is None:
                continue
            operation = self.operation(method, template)
            return (operation, dict(zip(names, found.groups(), strict=True))) if operation else None
        return None

    def operation(self, method: str, template: str) -> Operation | None:
        key = (method.upper(), template)
        if key not in self._operations:
            item = self._document["paths"][template]
            if method.lower() not in item:
                return None
            parameters = [
                *self._resolved_list(item.get("parameters")),
                *self._resolved_list(item[method.lower()].get("parameters")),
            ]
            raw = item[method.lower()].as_dict()
            self._operations[key] = Operation(self, key[0], template, raw, parameters)
        return self._operations[key]

    def _resolved_list(self, items: Any) -> list[JSON]:
        return [self.resolve(entry.as_dict()) for entry in items or ()]

    def resolve(self, node: JSON) -> JSON:
        """Follow a ``$ref`` to a parameter, response or header component."""
        while isinstance(node, dict) and "$ref" in node:
            *_, kind, name = node["$ref"].split("/")
            node = self._document["components"][kind][name].as_dict()
        return node

    # schemas

    def validator(self, schema: Any, *, strict: bool) -> Validator:
        """A validator for ``schema`` (a schema from this description, refs included).

        ``strict``: objects may have only the properties their schema lists.
        """
        from jsonschema import Draft202012Validator

        mode = "closed" if strict else "loose"
        needed: set[tuple[str, str]] = set()
        root = self._translate(schema, mode, needed)
        defs: JSON = {}
        while needed:
            name, wanted = needed.pop()
            key = f"{name}~{wanted}"
            if key in defs:
                continue
            if (name, wanted) not in self._defs:
                component = self._schemas[name].as_dict()
                found: set[tuple[str, str]] = set()
                self._defs[(name, wanted)] = (self._translate(component, wanted, found), found)
            translated, refs = self._defs[(name, wanted)]
            defs[key] = translated
            needed |= {ref for ref in refs if f"{ref[0]}~{ref[1]}" not in defs}
        if not isinstance(root, dict):
            root = {"allOf": [root]} if isinstance(root, bool) else root
        document = {"$schema": _DIALECT, **root, "$defs": defs}
        return Draft202012Validator(document, format_checker=self.format_checker)

    def object_problems(self, schema: str, value: Any) -> list[str]:
        """What is wrong with a JSON object sent outside REST (a gateway event's user,
        member...), by the component schema of that name (e.g. "UserResponse")."""
        if schema not in self._components:
            self._components[schema] = self.validator({"$ref": _SCHEMA_REF + schema}, strict=True)
        return [f"{schema}: {e}" for e in _errors(self._components[schema], value)]

    def response_problems(self, method: str, template: str, value: Any) -> list[str]:
        """What is wrong with ``value`` as the 200 answer of an operation (e.g. a gateway
        CHANNEL_CREATE's channel as GET /channels/{channel_id} answers it)."""
        operation = self.operation(method, template)
        assert operation is not None, f"{self.name} has no {method} {template}"
        return operation.check_response(200, "application/json", json.dumps(value).encode())

    def _translate(self, node: Any, mode: str, refs: set[tuple[str, str]]) -> Any:
        """OpenAPI schema -> JSON Schema 2020-12.

        ``mode`` is "loose" (as written), "closed" (this object and those inside it carry only
        listed properties) or "open" (inside closed ones, but a part of an ``allOf``, or of a
        ``oneOf``/``anyOf`` beside properties of its own, which the enclosing schema closes:
        ``unevaluatedProperties`` sees the properties every part listed). A plain object is
        closed with ``additionalProperties``, much cheaper to check.
        """
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            reference = node["$ref"]
            if not reference.startswith(_SCHEMA_REF):
                raise ValueError(f"{self.name}: unexpected reference {reference}")
            name = reference[len(_SCHEMA_REF) :]
            refs.add((name, mode))
            translated: Any = {"$ref": f"#/$defs/{name}~{mode}"}
        else:
            translated = self._translate_keywords(node, mode, refs)
        if self._nullable and node.get("nullable") is True:
            if isinstance(translated.get("type"), str):
                translated["type"] = [translated["type"], "null"]
                if "enum" in translated:
                    translated["enum"] = [*translated["enum"], None]
            else:
                translated = {"anyOf": [translated, {"type": "null"}]}
        return translated

    def _translate_keywords(self, node: JSON, mode: str, refs: set[tuple[str, str]]) -> JSON:
        inner = "loose" if mode == "loose" else "closed"
        # Parts that the enclosing schema closes (see _translate), or alternatives each
        # closed on their own.
        composed = "allOf" in node or "properties" in node
        part = "open" if mode == "open" or (mode == "closed" and composed) else mode
        translated: JSON = {}
        for key, value in node.items():
            if key in ("properties", "patternProperties"):
                value = {k: self._translate(v, inner, refs) for k, v in value.items()}
            elif key in ("items", "additionalProperties", "not", "contains"):
                value = self._translate(value, inner, refs)
            elif key == "prefixItems":
                value = [self._translate(v, inner, refs) for v in value]
            elif key in ("allOf", "anyOf", "oneOf"):
                value = [self._translate(v, part, refs) for v in value]
            elif key == "nullable":
                continue
            translated[key] = value
        if mode == "closed" and not ({"additionalProperties", "unevaluatedProperties"} & set(node)):
            if any(k in node for k in ("allOf", "anyOf", "oneOf")) and composed:
                translated["unevaluatedProperties"] = False
            elif "properties" in node:
                translated["additionalProperties"] = False
        return translated


def installed(name: str) -> bool:
    """Whether the description ``name`` ("discord" or "github") can be checked against: its
    file and the jsonschema package (the dev extra) are installed."""
    return SPEC_FILES[name].is_file() and importlib.util.find_spec("jsonschema") is not None


_LOADING = threading.Lock()


@functools.cache
def _load(name: str) -> Spec | None:
    if not installed(name):
        log.info("%s API description not installed: calls are not checked", name)
        return None
    return Spec(name, SPEC_FILES[name])


def load_spec(name: str) -> Spec | None:
    """The description ``name``, parsed once per process; None when not :func:`installed`."""
    with _LOADING:
        return _load(name)


def preload() -> None:
    """Parse the installed descriptions now, before the simulators' event loop has work to
    do: simdjson holds the GIL while it parses (tens of milliseconds for GitHub's)."""
    for name in SPEC_FILES:
        load_spec(name)


def require_spec(name: str) -> Spec:
    spec = load_spec(name)
    if spec is None:
        raise SpecMissing(
            f"{name}'s API description is needed to check the simulator: {INSTALL_HINT[name]} "
            f"({SPEC_FILES[name]} not found, or the jsonschema package is missing)"
        )
    return spec


# --- one operation ----------------------------------------------------------------------


_MISSING = object()


@dataclass
class Parameter:
    name: str
    location: str  # "path" or "query"
    required: bool
    schema: Any


class Operation:
    def __init__(
        self, spec: Spec, method: str, template: str, raw: JSON, parameters: list[JSON]
    ) -> None:
        self.spec = spec
        self.route = f"{method} {template}"
        self._raw = raw
        self.parameters = {
            (p["in"], p["name"]): Parameter(
                p["name"], p["in"], bool(p.get("required")), p["schema"]
            )
            for p in parameters
            if p["in"] in ("path", "query")
        }
        self._validators: dict[Any, Validator | None] = {}

    def _validator(self, key: Any, schema: Any, *, strict: bool) -> Validator | None:
        if key not in self._validators:
            self._validators[key] = (
                None if schema is None else self.spec.validator(schema, strict=strict)
            )
        return self._validators[key]

    # requests

    def check_parameters(self, path_values: Mapping[str, str], query: MultiDict[str]) -> list[str]:
        problems = []
        for (location, name), parameter in self.parameters.items():
            values = ([path_values[name]] if location == "path" and name in path_values else []) + (
                query.getall(name, []) if location == "query" else []
            )
            if not values:
                if parameter.required:
                    problems.append(f"{location} parameter {name} is missing")
                continue
            validator = self._validator(
                ("parameter", location, name), parameter.schema, strict=False
            )
            assert validator is not None
            schema = self.spec.resolve(parameter.schema)
            value: Any = (
                [_coerce(v, schema.get("items", {}), self.spec.booleans) for v in values]
                if schema.get("type") == "array"
                else _coerce(values[-1], schema, self.spec.booleans)
            )
            problems += [
                f"{location} parameter {name}={values[-1]!r}: {error}"
                for error in _errors(validator, value)
            ]
        declared = {name for location, name in self.parameters if location == "query"}
        problems += [
            f"query parameter {name} is not described" for name in query if name not in declared
        ]
        return problems

    def check_body(self, content_type: str, body: Any) -> list[str]:
        request_body = self.spec.resolve(self._raw.get("requestBody") or {})
        content = request_body.get("content") or {}
        if body is _MISSING:
            return ["a request body is required"] if request_body.get("required") else []
        media = content.get("application/json") or content.get(content_type)
        if media is None:
            return [f"a {content_type} body is not described for this operation"]
        validator = self._validator(("body",), media.get("schema"), strict=False)
        return [] if validator is None else [f"body: {e}" for e in _errors(validator, body)]

    # responses

    def check_response(self, status: int, content_type: str, body: bytes) -> list[str]:
        responses = self._raw.get("responses") or {}
        described = next(
            (
                responses[key]
                for key in (str(status), f"{str(status)[0]}XX", "default")
                if key in responses
            ),
            None,
        )
        if described is None:
            if status < 300:
                return [f"status {status} is not described (only {', '.join(responses)})"]
            return []  # errors the description leaves out (401, 5xx) are not checked
        media = (self.spec.resolve(described).get("content") or {}).get("application/json")
        if media is None or "schema" not in media:
            return [f"status {status} has no body, but one was sent"] if body else []
        if content_type != "application/json":
            return [f"status {status}: content type {content_type!r}, not application/json"]
        try:
            data = json.loads(body)
        except ValueError:
            return [f"status {status}: the body is not JSON"]
        validator = self._validator(("response", status), media["schema"], strict=True)
        assert validator is not None
        return [f"response {status}: {e}" for e in _errors(validator, data)]


def _coerce(text: str, schema: Any, booleans: Mapping[str, bool]) -> Any:
    """A parameter's text as the type its schema wants, when it reads as one."""
    types = schema.get("type") if isinstance(schema, dict) else None
    kinds = {types} if isinstance(types, str) else set(types or ())
    if "integer" in kinds and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            return text
    if "boolean" in kinds and text in booleans:
        return booleans[text]
    return text


def _errors(validator: Validator, instance: Any) -> list[str]:
    found = _causes(validator.iter_errors(instance))
    return [_describe(e) for e in sorted(found, key=lambda e: list(map(str, e.path)))]


def _causes(errors: Iterable[Any]) -> list[Any]:
    """The errors without those that only follow from others: an object whose oneOf failed
    also has all its properties unevaluated."""
    found = list(errors)
    failed = [tuple(e.absolute_path) for e in found if e.validator != "unevaluatedProperties"]
    return [
        e
        for e in found
        if e.validator != "unevaluatedProperties"
        or not any(path[: len(e.absolute_path)] == tuple(e.absolute_path) for path in failed)
    ]


def _describe(error: Any) -> str:
    if error.context:  # a oneOf/anyOf failed: say why the branch that came closest did
        branches: dict[Any, list[Any]] = {}
        for inner in _causes(error.context):
            branches.setdefault(inner.relative_schema_path[0], []).append(inner)
        # A branch for another kind of value fails on its type, or on a const or enum (the
        # "type" field of Discord's unions): the others came closer.
        closest = min(
            branches.values(),
            key=lambda errors: (
                any(e.validator == "type" and not e.relative_path for e in errors),
                any(e.validator in ("const", "enum") for e in errors),
                len(errors),
            ),
        )
        return "; ".join(_describe(e) for e in closest[:3])
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    return f"{where}: {error.message[:300]}"


# --- checking a simulator's calls ----------------------------------------------------------


@dataclass
class RouteTally:
    calls: int = 0
    valid: int = 0


@dataclass
class Violation:
    api: str
    route: str  # "GET /channels/{channel_id}/messages", or the path when no route matched
    problem: str

    def __str__(self) -> str:
        return f"{self.api} {self.route}: {self.problem}"


@dataclass
class Ledger:
    """Every check of this process, for the test suite's per-test failure and its report."""

    tallies: dict[tuple[str, str], RouteTally] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def take_violations(self) -> list[Violation]:
        """Wait until every call made so far is checked, and return (and forget) the
        violations of every simulator of this process."""
        _CHECKER.drain()
        with _CHECKER.lock:
            taken, self.violations = self.violations, []
        return taken


LEDGER = Ledger()


class _Checker:
    """The one thread per process that validates. A page of a hundred GitHub issues takes
    a good part of a second to validate: the simulators' event loop only hands calls over."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.lock = threading.Lock()  # guards the tallies and violations

    def submit(self, job: Callable[[], None]) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="api-check", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def drain(self) -> None:
        self._jobs.join()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            finally:
                self._jobs.task_done()


_CHECKER = _Checker()


def drain() -> None:
    """Wait until every call made so far, to any simulator of this process, is checked."""
    _CHECKER.drain()


class ApiCheck:
    """One simulator's calls, checked against its API description and tallied per route.

    Calls are handed to a thread and checked there; :meth:`drain` waits for it.
    """

    def __init__(
        self,
        api: str,
        *,
        prefix: str,
        canonical_path: Callable[[str], str] = lambda path: path,
    ) -> None:
        self.api = api
        self.prefix = prefix  # where the API lives on the simulator, e.g. "/api/v10"
        self._canonical_path = canonical_path  # GitHub: /repositories/{id}/x -> /repos/o/r/x
        self.enabled = installed(api)
        self._tallies: dict[str, RouteTally] = {}
        self._violations: list[Violation] = []

    def drain(self) -> None:
        """Wait until every call made so far is checked."""
        _CHECKER.drain()

    @property
    def violations(self) -> list[Violation]:
        """The calls that broke the description (call :meth:`drain` first)."""
        with _CHECKER.lock:
            return list(self._violations)

    def take_violations(self) -> list[Violation]:
        """Wait for the checks, and return their violations, which then no longer fail the
        test or run."""
        self.drain()
        with _CHECKER.lock:
            taken, self._violations = self._violations, []
            LEDGER.violations[:] = [v for v in LEDGER.violations if all(v is not t for t in taken)]
        return taken

    def submit(self, route: str, problems: Callable[[Spec], list[str]]) -> None:
        """Check in the thread: ``problems`` says what is wrong; tallied under ``route``."""
        if not self.enabled:
            return

        def job() -> None:
            spec = load_spec(self.api)
            try:
                found = problems(spec) if spec is not None else []
            except Exception as exc:  # a bug in the check must fail loudly, not hang or vanish
                log.exception("checking %s %s failed", self.api, route)
                found = [f"the check itself failed: {type(exc).__name__}: {exc}"]
            self._record(route, found)

        _CHECKER.submit(job)

    def _record(self, route: str, problems: list[str]) -> None:
        problems = [p for p in problems if not _excepted(self.api, route, p)]
        with _CHECKER.lock:
            for tally in (
                self._tallies.setdefault(route, RouteTally()),
                LEDGER.tallies.setdefault((self.api, route), RouteTally()),
            ):
                tally.calls += 1
                tally.valid += not problems
            for problem in problems:
                violation = Violation(self.api, route, problem)
                self._violations.append(violation)
                LEDGER.violations.append(violation)
        for problem in problems:
            log.warning("%s %s: %s", self.api, route, problem)

    def check_event(
        self, where: str, data: Any, problems: Callable[[Spec, Any], list[str]]
    ) -> None:
        """A gateway event (or other JSON sent outside REST), checked in the thread on a copy
        taken now."""
        if self.enabled:
            text = json.dumps(data)
            self.submit(where, lambda spec: problems(spec, json.loads(text)))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.enabled or not request.path.startswith(self.prefix + "/"):
            response: web.StreamResponse = await handler(request)
            return response
        if request.content_type != "multipart/form-data":
            await request.read()  # kept by aiohttp for the handler, and for the check after it
        response = await handler(request)
        body = request.get(SENT_JSON, _MISSING)
        if body is _MISSING and request.body_exists:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else _MISSING
            except ValueError:
                body = raw.decode(errors="replace")
        answer = response.body if isinstance(response, web.Response) else None
        call = _Call(
            method=request.method,
            path=self._canonical_path(request.path[len(self.prefix) :]),
            query=MultiDict(request.query),
            content_type=request.content_type,
            body=body,
            status=response.status,
            response_type=response.content_type,
            response_body=answer if isinstance(answer, bytes) else b"",
        )
        self._submit_call(call)
        return response

    def _submit_call(self, call: _Call) -> None:
        def job() -> None:
            spec = load_spec(self.api)
            if spec is None:
                return
            try:
                route, problems = call.check(spec)
            except Exception as exc:  # a bug in the check must fail loudly
                log.exception("checking %s %s %s failed", self.api, call.method, call.path)
                route = f"{call.method} {call.path}"
                problems = [f"the check itself failed: {type(exc).__name__}: {exc}"]
            self._record(route, problems)

        _CHECKER.submit(job)


@dataclass
class _Call:
    """A request and the simulator's answer, as the check needs them."""

    method: str
    path: str  # under the API's prefix, by owner and name
    query: MultiDict[str]
    content_type: str
    body: Any
    status: int
    response_type: str
    response_body: bytes

    def check(self, spec: Spec) -> tuple[str, list[str]]:
        found = spec.match(self.method, self.path)
        if found is None:
            return f"{self.method} {self.path}", ["no such operation in the API description"]
        operation, path_values = found
        problems = operation.check_parameters(path_values, self.query)
        problems += operation.check_body(self.content_type, self.body)
        problems += operation.check_response(self.status, self.response_type, self.response_body)
        return operation.route, problems


def report(*checks: ApiCheck) -> str:
    """Per route of the simulators' ``checks``: calls made and calls fully valid, then the
    problems found (waits for the checks to finish)."""
    _CHECKER.drain()
    with _CHECKER.lock:
        tallies = {(c.api, route): t for c in checks for route, t in c._tallies.items()}
        return render_report(tallies, [v for c in checks for v in c._violations])


def render_report(
    tallies: Mapping[tuple[str, str], RouteTally], violations: Iterable[Violation]
) -> str:
    lines = [f"{'api':<8} {'calls':>6} {'valid':>6}  route"]
    for (api, route), tally in sorted(tallies.items()):
        mark = "" if tally.valid == tally.calls else "  <-- invalid calls"
        lines.append(f"{api:<8} {tally.calls:>6} {tally.valid:>6}  {route}{mark}")
    calls = sum(t.calls for t in tallies.values())
    valid = sum(t.valid for t in tallies.values())
    lines.append(f"{len(tallies)} routes, {calls} calls, {valid} fully valid")
    # The same problem in every item of a listing is one line: "0/labels/1/x" -> "*/labels/*/x".
    problems = Counter(re.sub(r"(?<![^ /])\d+/", "*/", str(v)) for v in violations)
    lines += [f"  {text}" + (f" ({n} times)" if n > 1 else "") for text, n in problems.items()]
    return "\n".join(lines) + "\n"


def _excepted(api: str, route: str, problem: str) -> bool:
    return any(
        e.api == api and fnmatch.fnmatchcase(route, e.route) and re.search(e.problem, problem)
        for e in EXCEPTIONS
    )
