"""Subscriptions, the customer's side: see them, subscribe through Stripe Checkout, manage billing in Stripe."""
