"""Item books (POS key layouts): categories -> tabs -> buttons, one document per book."""
