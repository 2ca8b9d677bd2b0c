"""Vendors: registration, the vendor user's login, the dashboard home and the portal settings."""
