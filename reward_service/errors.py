"""The service's exceptions. One tree; :mod:`reward_service.api.errors` maps it to HTTP codes.

    RewardServiceError
    ├── Unauthorized         401: auth is on and the bearer key is missing or wrong
    ├── NotFound             404: no such job, or not the caller's
    ├── RequestTooLarge      413: body or item count over the limits
    ├── UnknownRecipe        422: a recipe name or component that does not exist
    ├── Overloaded           429: the queue is past its depth limit (carries retry_after)
    │   └── RateLimited      429: the caller's key is past its requests per minute
    └── GraderUnavailable    503: the grading backend is not running
"""

from __future__ import annotations


class RewardServiceError(Exception):
    """Base of every error the service raises on purpose."""


class Unauthorized(RewardServiceError):
    pass


class NotFound(RewardServiceError):
    pass


class RequestTooLarge(RewardServiceError):
    pass


class UnknownRecipe(RewardServiceError):
    def __init__(self, message: str, field: str = "recipe") -> None:
        super().__init__(message)
        self.field = field


class Overloaded(RewardServiceError):
    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    pass


class GraderUnavailable(RewardServiceError):
    pass
