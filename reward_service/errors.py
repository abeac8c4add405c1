"""The service's exceptions. One tree; :mod:`reward_service.api.errors` maps it to HTTP codes. (What a client
of the service raises is :class:`reward_service.client.RewardServiceError`: a request that failed for good.)

    ServiceError
    ├── Unauthorized         401: auth is on and the bearer key is missing or wrong
    ├── NotFound             404: no such job, or not the caller's
    ├── RequestTooLarge      413: body or item count over the limits
    ├── UnknownRecipe        422: a recipe name or component that does not exist
    ├── Overloaded           429: the queue is past its depth limit (carries retry_after)
    │   └── RateLimited      429: the caller's key is past its requests per minute
    └── GraderUnavailable    503: the grading backend is not running
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
