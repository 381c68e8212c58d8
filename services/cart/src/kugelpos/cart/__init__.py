"""Cart service: the sale itself (state machine, pricing, tax, discounts, payments)."""
