# syntax=docker/dockerfile:1
#
# One image for every Nexus process:
#   docker run IMAGE                 -> nexus serve   (HTTP: adapters, /healthz, /readyz, /metrics)
#   docker run IMAGE worker          -> nexus worker  (ARQ worker: answers questions, draws charts)
#   docker run IMAGE dev             -> nexus dev     (everything in one process, embedded defaults)
#   docker run --entrypoint milvus-lite IMAGE server --data-dir /data/milvus   (small Milvus server)
#
# Stage 1 builds a virtualenv with the project and its dependencies (wheels only, no
# compilers reach the final image). Stage 2 is the slim runtime: Python, the venv,
# Debian's Chromium for chart rendering (kaleido finds /usr/bin/chromium) and fonts,
# tini as PID 1 (it reaps Chromium's and the sandbox's child processes), non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Build tools for any dependency that ships no wheel for this platform.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY adapters ./adapters
COPY workers ./workers
# A regular (not editable) install: the final image needs only /opt/venv.
RUN pip install --upgrade "pip>=24" \
    && pip install . \
    && python -m compileall -q /opt/venv/lib


FROM ${PYTHON_IMAGE} AS runtime

ARG NEXUS_UID=10001
ARG NEXUS_GID=10001

LABEL org.opencontainers.image.title="nexus" \
      org.opencontainers.image.description="Nexus: a data analyst that lives in team chat" \
      org.opencontainers.image.licenses="Apache-2.0"

# chromium: kaleido renders charts with it; fonts: readable chart text; tini: PID 1.
# Versions come from the pinned Debian release of the base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        chromium \
        fonts-dejavu-core \
        fonts-liberation \
        tini \
    && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*

RUN groupadd --system --gid "${NEXUS_GID}" nexus \
    && useradd --system --uid "${NEXUS_UID}" --gid nexus --home-dir /home/nexus \
        --create-home --shell /usr/sbin/nologin nexus \
    && mkdir -p /data \
    && chown nexus:nexus /data

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BROWSER_PATH=/usr/bin/chromium \
    NEXUS_HOST=0.0.0.0 \
    NEXUS_PORT=3000 \
    NEXUS_DATA_DIR=/data \
    NEXUS_LOG_FORMAT=json

WORKDIR /home/nexus
VOLUME ["/data"]
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER ${NEXUS_UID}:${NEXUS_GID}
EXPOSE 3000

# Liveness of `serve` and `dev` (the worker has no HTTP port: compose and Kubernetes
# give it its own check). Python's urllib: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('NEXUS_PORT', '3000'), timeout=4)"]

ENTRYPOINT ["/usr/bin/tini", "--", "nexus"]
CMD ["serve"]
