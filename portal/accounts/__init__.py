"""Portal accounts: an end customer's login to one vendor's portal, and its password and e-mail."""
