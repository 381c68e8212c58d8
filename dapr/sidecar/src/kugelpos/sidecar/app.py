"""The sidecar's ASGI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kugelpos.sidecar import invoke, metadata_api, publisher, state_api
from kugelpos.sidecar.api_token import ApiTokenMiddleware, ApiTokens
from kugelpos.sidecar.errors import DaprError, dapr_error_handler
from kugelpos.sidecar.logs import log
from kugelpos.sidecar.policy import Policy
from kugelpos.sidecar.runtime import Runtime
from kugelpos.sidecar.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.create(settings)
        app.state.policy = policy = Policy.load(settings, runtime.components)
        await runtime.start()
        app.state.runtime = runtime
        log.info(
            "sidecar_started",
            port=settings.port,
            apps={a.app_id: a.base_url for a in settings.apps},
            components=[c.name for c in runtime.components.all()],
            api_token=bool(settings.api_tokens),
            access_control=policy.access_control is not None,
        )
        try:
            yield
        finally:
            await runtime.close()
            log.info("sidecar_stopped")

    app = FastAPI(title="kugelpos-sidecar", lifespan=lifespan, openapi_url=None, docs_url=None)
    app.add_exception_handler(DaprError, dapr_error_handler)
    for module in (metadata_api, publisher, state_api, invoke):
        app.include_router(module.router)
    # Outermost: a call without a valid token reaches nothing else.
    app.add_middleware(ApiTokenMiddleware, tokens=ApiTokens(settings.api_tokens))
    return app
