"""Refunds staff make, sent to Stripe with a key of their own."""
