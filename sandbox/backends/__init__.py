"""Where the trusted runner runs. A backend opens sessions: a line-delimited JSON channel to one runner."""
