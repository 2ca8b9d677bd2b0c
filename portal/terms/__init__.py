"""Terms of use: the acceptance gate driven by the vendor's `cryptolens_customtosurl` data object."""
