"""Plugins of the cart, discovered from the registry file `plugins.json` (see
docs/cart-plugins.md): payment methods, sales promotions and receipt renderers."""
