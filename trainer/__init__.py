"""The training client of the reward service: GRPO (TRL) with rewards from the service, and the R1 stages
around it (``sft``, rejection ``sample``, ``plot``). Run ``python -m trainer --help``."""
