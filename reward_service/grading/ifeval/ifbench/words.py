"""IFBench's ``words:*`` constraints."""
