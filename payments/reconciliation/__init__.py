"""Reconciliation: our orders, attempts and refunds against Stripe's truth (run.py)."""
