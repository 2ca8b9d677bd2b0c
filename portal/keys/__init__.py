"""License keys: creation (single and bulk), the key page, machines, the search language, the expiry sweep."""
