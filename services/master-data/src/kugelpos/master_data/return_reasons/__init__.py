"""Return reasons of a tenant: why an item comes back, whether it goes back on the shelf and
whether a return for it needs a manager's approval."""
