"""Billing: the vendor's Stripe connection, plans, subscription records and the webhooks that keep them."""
