"""Products: what a vendor licenses, with named features F1–F8; the product page lists and searches its keys."""
