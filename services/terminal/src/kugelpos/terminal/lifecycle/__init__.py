"""Terminal lifecycle: staff sign-in/out, open, close, cash in/out, and the logs they write."""
