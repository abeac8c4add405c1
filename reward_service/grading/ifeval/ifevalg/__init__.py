"""open-instruct's IFEvalG: the 29 instructions it adds to Google's 25 (its training constraints)."""
