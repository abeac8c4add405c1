"""IFBench's ``custom:*`` constraints."""
