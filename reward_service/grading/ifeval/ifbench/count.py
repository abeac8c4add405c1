"""IFBench's ``count:*`` constraints."""
