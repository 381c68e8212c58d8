# syntax=docker/dockerfile:1
# One image definition for every service; the build argument SERVICE_NAME picks which one
# (a name from the registry, tools/registry/src/kugelpos/registry/services.py). Build from the
# repo root:
#
#   docker build --build-arg SERVICE_NAME=cart --build-arg PORT=8003 -t kugelpos/cart .
#
# Nothing secret is built in: SECRET_KEY, PUBSUB_NOTIFY_API_KEY, APP_API_TOKEN and MONGODB_URI
# come from the environment at run time (compose, Kubernetes Secrets, Container Apps secrets),
# and .dockerignore keeps .env and local data out of the build context.
# tests/test_dockerfile.py checks these properties.
ARG PYTHON_IMAGE=python:3.13-slim

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE_NAME
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN test -n "${SERVICE_NAME}" || { echo "build with --build-arg SERVICE_NAME=<service>" >&2; exit 1; }
# Same uv as `make install`, from PyPI.
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /src
# uv needs the whole workspace (every member's pyproject) to read the lock; only this service's
# dependency closure (commons and the service) is installed, as wheels, not editable links.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "kugelpos-${SERVICE_NAME}"

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE_NAME
ARG PORT=8000
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SERVICE_NAME=${SERVICE_NAME} \
    PORT=${PORT}
RUN useradd --system --uid 10001 --no-create-home kugelpos
COPY --from=build /opt/venv /opt/venv
USER 10001
EXPOSE ${PORT}
# slim images have no curl; the service's own interpreter does the probe.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health', timeout=4)"]
# master-data -> kugelpos.master_data.main:app
CMD ["sh", "-c", "exec uvicorn \"kugelpos.$(echo \"$SERVICE_NAME\" | tr - _).main:app\" --host 0.0.0.0 --port \"$PORT\" --proxy-headers"]
