"""Terms of use: the acceptance gate driven by the vendor's `cryptolens_customtosurl` data object."""

from portal.terms.routes import init_app

__all__ = ["init_app"]
