"""IFBench's ``sentence:*`` constraints."""
