"""Licenses, portal side: the customer's keys on the dashboard, revealing a key, freeing a machine."""
