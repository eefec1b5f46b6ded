"""Paying for an order: starting a Checkout Session or a PaymentIntent, the shopper's Stripe
customer, closing open attempts, the card-testing limits, what webhooks record on an
attempt, and the payment APIs."""
