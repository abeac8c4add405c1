"""IFBench's ``ratio:*`` constraints."""
