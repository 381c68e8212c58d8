"""Delivery status of published events, the HTTP way in (the other is `tranlog_status`)."""
