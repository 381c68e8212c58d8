"""The only doors to other services and to Dapr: pooled HTTP with retries and breakers."""
