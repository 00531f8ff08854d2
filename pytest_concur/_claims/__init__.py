"""Claims: the expectation vocabulary, judging claims over a session's rows, verdict rows."""
