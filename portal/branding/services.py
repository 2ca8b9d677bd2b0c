"""The vendor's brand settings (logo, accent colour, support contact, a link to its site): their checks, their
change, and the colours the portal derives from the accent. What a page or a mail shows of them: portal/brand.py."""

import re
from dataclasses import dataclass

from sqlmodel import Session

from portal.audit import record_change
from portal.branding.images import clean_logo, logo_version
from portal.domain import DomainError, each_checked
from portal.models import EMAIL_MAX, URL_MAX, Vendor, VendorLogo, utcnow
from portal.rules import valid_email, web_url_problem

_ACCENT = re.compile(r"#[0-9a-f]{6}")
_SHORT_ACCENT = re.compile(r"#[0-9a-f]{3}")  # CSS's short form: #fa0 is #ffaa00
_BRAND_FIELDS = ("accent_color", "support_contact", "site_url", "logo_version")


def valid_accent_color(value: str) -> str:
    """`#rrggbb` or `#rgb` (any case; stored as `#rrggbb` in lower case), or empty for the portal's own colour."""
    value = value.strip().lower()
    if _SHORT_ACCENT.fullmatch(value):
        value = "#" + "".join(digit * 2 for digit in value[1:])
    if value and not _ACCENT.fullmatch(value):
        raise DomainError("Give a colour as # and six (or three) hexadecimal digits, e.g. #1a73e8.",
                          field="accent_color")
    return value


def valid_support_contact(value: str) -> str:
    """An e-mail address or an http(s) address, or empty."""
    value = value.strip()
    if not value:
        return ""
    if "://" in value or "@" not in value:
        problem = web_url_problem(value, otherwise=f"Give an e-mail address or an http:// or https:// address of at "
                                                   f"most {URL_MAX:,} characters.")
        if problem:
            raise DomainError(problem, field="support_contact")
        return value
    return valid_email(value, max_length=EMAIL_MAX, field="support_contact")


def valid_site_url(value: str) -> str:
    value = value.strip()
    problem = web_url_problem(value) if value else ""
    if problem:
        raise DomainError(problem, field="site_url")
    return value


def update_brand(session: Session, *, vendor: Vendor, accent_color: str, support_contact: str, site_url: str,
                 logo: bytes | None = None, remove_logo: bool = False, actor: str, ip: str = "") -> Vendor:
    """Every value is checked (the logo decoded and re-encoded) before anything is written: a refusal leaves the
    brand as it was. `logo` replaces the stored one; `remove_logo` without a new one removes it."""
    checked = each_checked({"accent_color": lambda: valid_accent_color(accent_color),
                            "support_contact": lambda: valid_support_contact(support_contact),
                            "site_url": lambda: valid_site_url(site_url),
                            "logo": lambda: clean_logo(logo) if logo is not None else None})
    cleaned = checked.pop("logo")
    values = checked
    before = {name: getattr(vendor, name) for name in _BRAND_FIELDS}
    if cleaned is not None:
        data, content_type = cleaned
        stored = session.get(VendorLogo, vendor.id) or VendorLogo(vendor_id=vendor.id, content_type=content_type,
                                                                  data=data)
        stored.content_type, stored.data, stored.updated = content_type, data, utcnow()
        session.add(stored)
        values["logo_version"] = logo_version(data)
    elif remove_logo and vendor.logo_version:
        stored = session.get(VendorLogo, vendor.id)
        if stored is not None:
            session.delete(stored)
        values["logo_version"] = ""
    for name, value in values.items():
        setattr(vendor, name, value)
    session.add(vendor)
    after = {name: getattr(vendor, name) for name in _BRAND_FIELDS}
    if after != before:
        record_change(session, vendor_id=vendor.id, actor=actor, action="vendor.brand_changed",
                      subject_type="vendor", subject_id=vendor.id, before=before, after=after, ip=ip)
    return vendor


def logo_of(session: Session, *, vendor_id: int) -> VendorLogo | None:
    return session.get(VendorLogo, vendor_id)


@dataclass(frozen=True, slots=True)
class AccentColors:
    """The accent and the colours the portal's stylesheet derives from it: text on it, links on white, and the edge
    of a button filled with it."""

    accent: str
    on_accent: str
    link: str
    border: str


def accent_colors(accent: str) -> AccentColors:
    """White text on the accent where it reads well (WCAG's 4.5:1), else whichever of black and white reads better;
    links darkened until they read on white (WCAG's 4.5:1), so a pale accent still gives legible links; and a button
    of a pale accent (under 3:1 on white, WCAG's measure for a control) edged in the link colour, so that it does not
    vanish into the page."""
    rgb = _rgb(accent)
    on_white = _contrast(rgb, (255, 255, 255))
    on_accent = "#ffffff" if on_white >= 4.5 or on_white >= _contrast(rgb, (0, 0, 0)) else "#000000"
    link = rgb
    while _contrast(link, (255, 255, 255)) < 4.5:
        link = tuple(int(channel * 0.9) for channel in link)
    link_color = "#" + "".join(f"{c:02x}" for c in link)
    return AccentColors(accent=accent, on_accent=on_accent, link=link_color,
                        border=accent if on_white >= 3 else link_color)


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def _luminance(rgb) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
