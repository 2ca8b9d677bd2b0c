"""Data objects: the vendor's named values, among them `cryptolens_customtosurl` (the terms of use)."""
