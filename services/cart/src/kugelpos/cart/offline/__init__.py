"""Offline selling (issue 27): blocks of numbers reserved for a till's offline sales, and the
intake that takes those sales back, checked, exactly once."""
