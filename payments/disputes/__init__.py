"""Staff answering a dispute at Stripe: evidence saved as a draft or submitted, or the
dispute accepted (`services.py`); the evidence Stripe takes (`evidence.py`); what is
staged at Stripe now (`selectors.py`)."""
