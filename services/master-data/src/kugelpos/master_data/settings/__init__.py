"""Named settings with per-store and per-terminal values."""
