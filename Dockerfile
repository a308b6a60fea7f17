# SPDX-License-Identifier: Apache-2.0
# Multi-stage build: dependencies are built in a throwaway stage, the runtime image carries
# only the virtualenv and runs as an unprivileged user.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY bot ./bot
COPY cogs ./cogs
COPY migrations ./migrations
RUN /opt/venv/bin/pip install .

FROM python:3.12-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin helios \
    && mkdir -p /app/data && chown helios /app/data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HELIOS_BOT_CONFIG=/app/config.toml \
    DATABASE_URL=sqlite+aiosqlite:////app/data/helios.db
WORKDIR /app
USER helios
EXPOSE 8080
VOLUME ["/app/data"]
# The config must listen on 0.0.0.0:8080 inside the container for this check and for GitHub.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# Exec form, no shell in between: helios-bot is PID 1 and receives `docker stop`'s SIGTERM
# itself. (PID 1 ignores signals it has no handler for; helios-bot installs its own.)
# `run` applies migrations before connecting; use `helios-bot web` for webhook receivers.
ENTRYPOINT ["helios-bot"]
CMD ["run"]
