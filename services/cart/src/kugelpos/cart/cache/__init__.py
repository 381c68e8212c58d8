"""What the cart caches from other services: terminal info and master data, and the
terminal-cache endpoints."""
