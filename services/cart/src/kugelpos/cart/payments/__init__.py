"""Payment rules (pure); the payment plugins wrap them."""
