"""Thin adapters for other RL frameworks; each only maps their calling convention onto the client."""
