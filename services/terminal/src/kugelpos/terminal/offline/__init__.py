"""Offline selling (issue 27), the terminal's side: blocks of numbers for a till's offline
sales (the cart keeps the counters and reserves them), and a terminal's sessions of a day
(which the cart checks uploaded offline sales against)."""
