"""Composition root of the HTTP service: builds the FastAPI app from every domain's router.

The lifespan configures the database and the jobs backend; in embedded mode (no Redis) it
also runs the in-process job runner, so one process is the whole system.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic_core.core_schema import ErrorType
from starlette.exceptions import HTTPException as StarletteHTTPException

from enforcement import domains
from enforcement.core import db, jobs
from enforcement.core.errors import DomainError, error_body
from enforcement.core.settings import Settings, get_settings

API_PREFIX = "/api/v1"

DESCRIPTION = """
The back end of a court's enforcement bureau: cases, asset inquiries and freezes through
registry connectors, a zero-commission online judicial auction, and the defaulter and
consumption-restriction lists with an incremental feed for credit systems.

Authenticate with `Authorization: Bearer <token>` (tokens from `enforcement keys create`).
Errors: `{"error": {"code", "message", "details"}}`. Money: decimal yuan strings.
"""

_PYDANTIC_TYPES = frozenset(get_args(ErrorType))
_CUSTOM_CODES = {"extra_forbidden": "unknown_field", "missing": "missing_field"}


def _validation_code(errors: list[dict[str, object]]) -> str:
    """The first error's own code: ours (invalid_id_number…) or a readable pydantic one."""
    for error in errors:
        kind = str(error.get("type", ""))
        if kind in _CUSTOM_CODES:
            return _CUSTOM_CODES[kind]
        if kind not in _PYDANTIC_TYPES:  # raised by our validators with its own code
            return kind
        if kind == "json_invalid":
            return "invalid_json"
    return "invalid_input"


def install_error_handlers(app: FastAPI) -> None:
    """Render every failure in the one error shape."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.to_body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        body = error_body(_validation_code(errors), message, {"errors": errors})
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )


def install_docs(app: FastAPI) -> None:
    """Swagger UI served from the installed bundle: the docs page works offline."""
    static_dir = Path(swagger_ui_bundle.swagger_ui_path)
    app.mount("/docs-static", StaticFiles(directory=static_dir), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="enforcement-engine API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png",
        )


def create_app(
    settings: Settings | None = None,
    *,
    run_jobs_in_process: bool = True,
    manage_resources: bool = True,
) -> FastAPI:
    """Build the app. ``run_jobs_in_process`` lets the embedded runner work in the background;
    tests pass ``manage_resources=False`` and configure the database and jobs themselves."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not manage_resources:
            yield
            return
        db.configure(settings.database_url, echo=settings.sql_echo)
        backend = await jobs.configure(settings.redis_url, settings.queue_name)
        await domains.startup(settings)
        runner_task = None
        if isinstance(backend, jobs.InProcessRunner) and run_jobs_in_process:
            runner_task = asyncio.create_task(backend.serve())
        try:
            yield
        finally:
            if runner_task is not None:
                runner_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner_task
            await domains.shutdown()
            await backend.close()
            await db.dispose()

    app = FastAPI(
        title="enforcement-engine",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    domains.wire()
    install_error_handlers(app)
    install_docs(app)
    for router in domains.routers():
        app.include_router(router, prefix=API_PREFIX)
    return app
