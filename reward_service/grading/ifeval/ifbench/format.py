"""IFBench's ``format:*`` constraints."""
