"""The service's exceptions. One tree; :mod:`reward_service.api.errors` maps it to HTTP codes. (What a client
of the service raises is :class:`reward_service.client.RewardServiceError`: a request that failed for good.)

    ServiceError
    ├── Unauthorized         401: auth is on and the key (bearer or Basic password) is missing or wrong
    ├── NotFound             404: no such job or session, or not the caller's
    ├── Gone                 410: the session ended (its process died, it expired) or lives on another replica
    ├── RequestTooLarge      413: body or item count over the limits
    ├── UnknownRecipe        422: a recipe name or component that does not exist
    ├── InvalidInput         422: a field the operator's bounds refuse (files too large, ...), named
    ├── Overloaded           429: the queue is past its depth limit, or sessions at their cap (retry_after)
    │   └── RateLimited      429: the caller's key is past its requests per minute
    └── GraderUnavailable    503: the grading backend is not running
        └── ToolUnavailable  503: no sandbox for the tool endpoints (switched off, or none here), and why
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""


class Unauthorized(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class RequestTooLarge(ServiceError):
    pass


class UnknownRecipe(ServiceError):
    def __init__(self, message: str, field: str = "recipe") -> None:
        super().__init__(message)
        self.field = field


class Overloaded(ServiceError):
    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    pass


class GraderUnavailable(ServiceError):
    pass


# -- the sandbox as a tool (issue 18) -------------------------------------------------------------------------

class Gone(ServiceError):
    pass


class InvalidInput(ServiceError):
    """``loc``: the field's path in the body, as FastAPI's own 422 gives it (``("files", "a.txt")``)."""

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc = loc


class ToolUnavailable(GraderUnavailable):
    pass
