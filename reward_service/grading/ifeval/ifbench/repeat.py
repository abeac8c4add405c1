"""IFBench's ``repeat:*`` constraints."""
