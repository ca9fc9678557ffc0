# syntax=docker/dockerfile:1.7
# The API gateway image: uvicorn serving app.gateway:create_app on port 8000.
# Built for linux/arm64 (the Fargate task's runtimePlatform is ARM64), run as user 10001
# with a read-only root filesystem: /tmp and the ECS Exec agent paths are task volumes.
#   docker buildx build --platform linux/arm64 -t agatha-gateway:<version> .

ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm

# --- build: resolve the locked dependencies into a virtualenv --------------------------
# hadolint ignore=DL3029
FROM --platform=linux/arm64 ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY constraints.txt app/requirements-gateway.txt ./
# Wheels only: no compiler is needed here and none can leak into the runtime stage.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --only-binary=:all: \
      --requirement requirements-gateway.txt --constraint constraints.txt \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel
COPY app/ /srv/app/
# Byte-compile now: the root filesystem is read-only at run time.
RUN python -m compileall -q /opt/venv/lib /srv/app

# --- runtime: the app, its virtualenv and nothing else ---------------------------------
# hadolint ignore=DL3029
FROM --platform=linux/arm64 ${PYTHON_IMAGE} AS runtime
ARG APP_UID=10001
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/srv
# ECS Exec's SSM agent writes under these paths; Fargate seeds each task volume from the
# image's directory, so they must exist here owned by the app user.
RUN groupadd --system --gid "${APP_UID}" agatha \
 && useradd --system --uid "${APP_UID}" --gid agatha --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin agatha \
 && mkdir -p /managed-agents /var/lib/amazon/ssm /var/log/amazon/ssm \
 && chown "${APP_UID}:${APP_UID}" /managed-agents /var/lib/amazon/ssm /var/log/amazon/ssm
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/app /srv/app
WORKDIR /srv
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# The ALB terminates TLS and is the only peer the gateway security group admits.
CMD ["uvicorn", "app.gateway:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--proxy-headers", "--forwarded-allow-ips", "*", "--no-server-header", \
     "--timeout-graceful-shutdown", "25"]
