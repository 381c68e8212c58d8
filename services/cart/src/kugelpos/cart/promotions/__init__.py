"""Sales-promotion rules (pure); the promotion plugins fetch promotions and apply these."""
