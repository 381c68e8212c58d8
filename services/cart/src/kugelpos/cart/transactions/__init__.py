"""Transactions: completion of bill/cancel (numbers, tranlog, outbox), void and return,
queries and delivery status."""
