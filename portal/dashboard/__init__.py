"""The customer dashboard: who you are, your licenses and your subscriptions."""
