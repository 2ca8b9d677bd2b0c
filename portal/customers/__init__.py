"""Customers, vendor side: the list and search, create, edit, delete, and the association link."""
