# SPDX-License-Identifier: Apache-2.0
"""aiohttp applications: /healthz (liveness), /readyz (readiness) and /metrics (Prometheus).

/readyz and /metrics can be served on an admin address of their own, for deployments that
expose the webhook to the internet and keep the rest inside.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from bot.log import get_logger

log = get_logger(__name__)

# A readiness check returns None when healthy, else a short reason shown on /readyz.
ReadinessCheck = Callable[[], Awaitable[str | None]]
# A check that has not answered by then has failed: a hung database gets a prompt 503 rather
# than a probe left waiting (the checks run side by side, so this bounds the whole answer).
READINESS_TIMEOUT = 2.0

_CHECKS = web.AppKey("checks", Mapping[str, ReadinessCheck])
_REGISTRY = web.AppKey("registry", CollectorRegistry)


def create_web_apps(
    checks: Mapping[str, ReadinessCheck],
    registry: CollectorRegistry,
    *,
    separate_admin: bool = False,
    client_max_size: int = 1024**2,
) -> tuple[web.Application, web.Application | None]:
    """The application for the main address and, if ``separate_admin``, one for the admin
    address, which then alone serves /readyz and /metrics. Both serve /healthz; the caller
    adds the webhook route to the first. Requests to either are counted in ``registry``."""
    requests = Counter(
        "helios_http_requests",
        "HTTP requests answered, by route and status",
        ["route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "helios_http_request_seconds",
        "Time to answer an HTTP request, by route",
        ["route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    )

    @web.middleware
    async def measure(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # The route pattern, not the path, so that scanners cannot explode label cardinality.
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            requests.labels(name, str(status)).inc()
            latency.labels(name).observe(time.perf_counter() - started)

    def application(*, admin: bool, max_size: int = 1024**2) -> web.Application:
        app = web.Application(middlewares=[measure], client_max_size=max_size)
        app.router.add_get("/healthz", healthz)
        if admin:
            app[_CHECKS] = checks
            app[_REGISTRY] = registry
            app.router.add_get("/readyz", readyz)
            app.router.add_get("/metrics", metrics)
        return app

    main = application(admin=not separate_admin, max_size=client_max_size)
    return main, application(admin=True) if separate_admin else None


async def healthz(_request: web.Request) -> web.Response:
    # Answering at all proves the event loop is alive; dependencies belong to /readyz.
    return web.json_response({"status": "ok"})


async def _readiness(name: str, check: ReadinessCheck) -> str:
    try:
        problem = await asyncio.wait_for(check(), READINESS_TIMEOUT)
    except TimeoutError:
        log.warning("readiness check %s gave no answer in %g s", name, READINESS_TIMEOUT)
        return f"no answer within {READINESS_TIMEOUT:g} s"
    except Exception as exc:
        log.warning("readiness check %s failed", name, exc_info=True)
        return f"check failed: {type(exc).__name__}"
    return problem or "ok"


async def readyz(request: web.Request) -> web.Response:
    checks = request.app[_CHECKS]
    answers = await asyncio.gather(*(_readiness(name, check) for name, check in checks.items()))
    results = dict(zip(checks, answers, strict=True))
    ready = all(result == "ok" for result in results.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": results},
        status=200 if ready else 503,
    )


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
