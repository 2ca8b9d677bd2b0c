"""What a portal page or a mail shows of the vendor's brand, decided once for both (the branding package edits the
settings; mail, which sits below it, shows them too)."""

from collections.abc import Callable
from dataclasses import dataclass

from portal.rules import is_http_address


@dataclass(frozen=True, slots=True)
class Brand:
    """What a portal page or a mail shows of the vendor: each None when the vendor has not set it."""

    name: str
    logo_url: str | None
    accent_color: str | None
    support_email: str | None
    support_url: str | None
    site_url: str | None


def brand_of(vendor, *, portal_url: str | Callable[[], str]) -> Brand:
    """The vendor's brand: of a Vendor, of the portal request's record of one, or of anything with its name (a
    brand setting it lacks is not set). `portal_url` is the address of the vendor's portal home, absolute for mail
    (`/Portal/@slug/` on a page), or a function giving it; the logo's address is under it, so it is asked for only
    when there is a logo (a job that queues mail without one needs no app to work it out)."""
    support = getattr(vendor, "support_contact", None) or None
    is_mail = support is not None and not is_http_address(support)
    logo_version = getattr(vendor, "logo_version", None)
    logo_url = None
    if logo_version:
        home = portal_url() if callable(portal_url) else portal_url
        logo_url = f"{home.rstrip('/')}/logo?v={logo_version}"
    return Brand(name=vendor.name, logo_url=logo_url, accent_color=getattr(vendor, "accent_color", None) or None,
                 support_email=support if is_mail else None, support_url=None if is_mail else support,
                 site_url=getattr(vendor, "site_url", None) or None)
