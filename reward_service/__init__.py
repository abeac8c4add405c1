"""Rule-based, verifiable rewards for RL of reasoning models.

Public names: the wire models live in :mod:`reward_service.schemas`, the HTTP client in
:mod:`reward_service.client`, the app factory in :mod:`reward_service.api.app`.
"""

__version__ = "0.1.0"
