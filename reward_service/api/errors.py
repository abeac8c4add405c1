"""The one place that maps the service's exceptions to HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from reward_service.errors import (
    Gone,
    GraderUnavailable,
    InvalidInput,
    NotFound,
    Overloaded,
    RequestTooLarge,
    Unauthorized,
    UnknownRecipe,
)
from reward_service.schemas import MAX_NESTING, nesting
from reward_service.surrogates import valid_deep


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422, except that echoed input that is not valid Unicode is made valid, and input
        # nested too deep is not echoed (either would make it a 500: encoding, or recursing through it).
        errors = [{**e, "input": "(nested too deep to echo)"} if nesting(e.get("input")) > MAX_NESTING else e
                  for e in exc.errors()]
        return JSONResponse({"detail": valid_deep(jsonable_encoder(errors))}, status_code=422)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(RequestTooLarge)
    async def _too_large(_: Request, exc: RequestTooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413)

    @app.exception_handler(Gone)
    async def _gone(_: Request, exc: Gone) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=410)

    @app.exception_handler(InvalidInput)
    async def _invalid_input(_: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": ["body", *exc.loc], "msg": str(exc), "type": "value_error"}]},
                            status_code=422)

    @app.exception_handler(UnknownRecipe)
    async def _bad_recipe(_: Request, exc: UnknownRecipe) -> JSONResponse:
        # Same shape as FastAPI's own validation errors, so clients parse one format.
        loc = ["body", *exc.field.split(".")]
        return JSONResponse({"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}]}, status_code=422)

    @app.exception_handler(Overloaded)
    async def _overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))})

    @app.exception_handler(GraderUnavailable)
    async def _unavailable(_: Request, exc: GraderUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)
