"""Store items: per-store prices and the merged `details` the cart reads on every sale."""
