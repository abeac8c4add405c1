"""``/docs``: Swagger UI served from this process, not from a CDN, so the page works on machines without
internet (clusters, air-gapped eval boxes). The files are Swagger UI 5 (``swagger_ui/``, vendored: see its
README), the first to render OpenAPI 3.1, which FastAPI emits. ReDoc is not served (it would need a CDN too);
``/openapi.json`` has the whole schema."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"  # open without a key (auth.OPEN)
SWAGGER_UI = Path(__file__).parent / "swagger_ui"
SWAGGER_UI_VERSION = "5.36.0"  # swagger-ui-dist's, as in swagger_ui/README.md
# No validator badge: Swagger UI would fetch it from validator.swagger.io.
PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - docs",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
                                   swagger_ui_parameters=PARAMETERS)
