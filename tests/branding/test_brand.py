"""The vendor's brand: the settings page, its checks of each value, and the logo and stylesheet a portal serves."""

import io

from PIL import Image
from sqlmodel import select

from portal.brand import brand_of
from portal.branding import services
from portal.branding.images import LOGO_MAX_BYTES
from portal.models import AuditEvent, Vendor, VendorLogo
from tests.support.pages import csrf_token, post_form, redirect_path

BRAND_PAGE = "/vendor/settings/brand"


def image_bytes(kind: str = "PNG", size=(64, 32), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind, **save)
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def post_brand(client, *, logo: tuple[bytes, str] | None = None, **fields):
    data = {"csrf_token": csrf_token(client, BRAND_PAGE), "accent_color": "", "support_contact": "",
            "site_url": "", **fields}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[0]), logo[1])
    return client.post(BRAND_PAGE, data=data, content_type="multipart/form-data")


def test_a_vendor_sets_the_brand_and_the_portal_shows_it(vendor_client, client, db, vendor, make):
    response = post_brand(vendor_client, logo=(image_bytes("PNG"), "logo.png"), accent_color="#1A73E8",
                          support_contact="help@acme.example", site_url="https://acme.example/")
    assert redirect_path(response) == BRAND_PAGE
    db.refresh(vendor)
    assert (vendor.accent_color, vendor.support_contact, vendor.site_url) == (
        "#1a73e8", "help@acme.example", "https://acme.example/")
    assert len(vendor.logo_version) == 16

    login = client.get(f"/Portal/@{vendor.slug}/Login").get_data(as_text=True)
    assert f'/Portal/@{vendor.slug}/brand.css?v=1a73e8' in login
    assert f'/Portal/@{vendor.slug}/logo?v={vendor.logo_version}' in login
    assert 'href="mailto:help@acme.example"' in login and 'href="https://acme.example/"' in login
    assert "style=" not in login

    css = client.get(f"/Portal/@{vendor.slug}/brand.css?v=1a73e8")
    assert css.mimetype == "text/css" and "--pico-primary-background: #1a73e8" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]
    assert "immutable" not in client.get(f"/Portal/@{vendor.slug}/brand.css?v=000000").headers["Cache-Control"]

    logo = client.get(f"/Portal/@{vendor.slug}/logo?v={vendor.logo_version}")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff" and "immutable" in logo.headers["Cache-Control"]
    assert Image.open(io.BytesIO(logo.data)).format == "PNG"
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "vendor.brand_changed")).first() is not None


def test_a_new_logo_gets_a_new_address_and_removing_it_removes_it(vendor_client, client, db, vendor):
    post_brand(vendor_client, logo=(image_bytes("PNG"), "a.png"))
    first = db.get(Vendor, vendor.id).logo_version
    post_brand(vendor_client, logo=(image_bytes("WEBP", size=(40, 40)), "b.webp"))
    db.refresh(vendor)
    assert vendor.logo_version != first
    assert client.get(f"/Portal/@{vendor.slug}/logo?v={vendor.logo_version}").mimetype == "image/webp"
    post_brand(vendor_client, remove_logo="y")
    db.refresh(vendor)
    assert vendor.logo_version == "" and db.get(VendorLogo, vendor.id) is None
    assert client.get(f"/Portal/@{vendor.slug}/logo").status_code == 404


def test_a_jpeg_is_reencoded_without_its_metadata(db, vendor):
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    services.update_brand(db, vendor=vendor, accent_color="", support_contact="", site_url="", actor="test",
                          logo=image_bytes("JPEG", size=(1200, 600), exif=exif.tobytes()) + b"<script>")
    db.commit()
    stored = db.get(VendorLogo, vendor.id)
    assert stored.content_type == "image/jpeg" and b"secret description" not in stored.data
    assert b"<script>" not in stored.data
    assert Image.open(io.BytesIO(stored.data)).size == (512, 256)


BAD_INPUT = [
    ({"logo": (SVG, "logo.png")}, "logo", "PNG, JPEG or WebP"),
    ({"logo": (image_bytes("GIF"), "logo.png")}, "logo", "PNG, JPEG or WebP"),
    ({"logo": (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "logo.png")}, "logo", "PNG, JPEG or WebP"),
    ({"logo": (image_bytes("PNG") + b"\0" * LOGO_MAX_BYTES, "big.png")}, "logo", "at most 256 KB"),
    ({"accent_color": "red"}, "accent_color", "six (or three) hexadecimal digits"),
    ({"accent_color": "#12345g"}, "accent_color", "six (or three) hexadecimal digits"),
    ({"accent_color": "#fffg"}, "accent_color", "hexadecimal digits"),
    ({"support_contact": "javascript:alert(1)"}, "support_contact", "e-mail address or an http"),
    ({"support_contact": "not an address@"}, "support_contact", ""),
    ({"site_url": "ftp://acme.example"}, "site_url", "http:// or https://"),
    ({"site_url": "javascript:alert(1)//"}, "site_url", "http:// or https://"),
]


def test_bad_input_is_refused_at_its_field_and_nothing_is_written(vendor_client, db, vendor):
    for fields, field, message in BAD_INPUT:  # one vendor for the whole table: each case costs a request only
        fields = dict(fields)
        logo = fields.pop("logo", None)
        # A valid colour beside the bad value: it is not saved either.
        response = post_brand(vendor_client, logo=logo, **{"accent_color": "#00aa00", **fields})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert f'id="{field}-error"' in page and message in page, fields
        db.refresh(vendor)
        assert (vendor.accent_color, vendor.logo_version) == ("", ""), fields
        assert db.get(VendorLogo, vendor.id) is None


def test_brand_of_gives_the_mail_layout_every_part(db, vendor):
    services.update_brand(db, vendor=vendor, accent_color="#ffee00", support_contact="https://acme.example/help",
                          site_url="https://acme.example", logo=image_bytes(), actor="test")
    db.commit()
    brand = brand_of(vendor, portal_url="https://licenses.example/Portal/@acme.io/")
    assert brand.name == vendor.name and brand.accent_color == "#ffee00"
    assert brand.logo_url == f"https://licenses.example/Portal/@acme.io/logo?v={vendor.logo_version}"
    assert (brand.support_email, brand.support_url, brand.site_url) == (
        None, "https://acme.example/help", "https://acme.example")
    # A pale accent keeps legible links (darkened) and dark text on its buttons.
    colors = services.accent_colors("#ffee00")
    assert colors.on_accent == "#000000" and colors.link != "#ffee00"
    assert services.accent_colors("#1a73e8").on_accent == "#ffffff"
    # A button of a pale accent keeps a visible edge; one that stands out on white is edged in itself.
    white = services.accent_colors("#ffffff")
    assert white.on_accent == "#000000" and white.border == white.link != "#ffffff"
    assert services.accent_colors("#1a73e8").border == "#1a73e8"


def test_another_vendors_portal_shows_none_of_it(vendor_client, client, other_vendor, vendor, db):
    post_brand(vendor_client, logo=(image_bytes(), "a.png"), accent_color="#123456")
    page = client.get(f"/Portal/@{other_vendor.slug}/Login").get_data(as_text=True)
    assert "brand.css" not in page and "/logo" not in page
    assert client.get(f"/Portal/@{other_vendor.slug}/logo").status_code == 404


def test_the_settings_page_shows_the_logo_while_the_portal_is_off(vendor_client, client, db, vendor):
    post_brand(vendor_client, logo=(image_bytes(), "a.png"))
    db.refresh(vendor)
    vendor.portal_enabled = False
    db.add(vendor)
    db.commit()
    page = vendor_client.get(BRAND_PAGE).get_data(as_text=True)
    assert f"{BRAND_PAGE}/logo?v={vendor.logo_version}" in page
    assert vendor_client.get(f"{BRAND_PAGE}/logo?v={vendor.logo_version}").mimetype == "image/png"
    assert client.get(f"/Portal/@{vendor.slug}/logo?v={vendor.logo_version}").status_code == 404


def test_the_logo_and_stylesheet_answer_304_to_their_etag(vendor_client, client, db, vendor):
    post_brand(vendor_client, logo=(image_bytes(), "a.png"), accent_color="#123456")
    db.refresh(vendor)
    for path in (f"/Portal/@{vendor.slug}/logo", f"/Portal/@{vendor.slug}/brand.css"):
        first = client.get(path)
        assert first.status_code == 200 and first.headers["ETag"]
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert vendor_client.get(f"{BRAND_PAGE}/logo?v={vendor.logo_version}").headers["Cache-Control"].startswith(
        "private")


def test_every_bad_brand_field_is_named_at_once(vendor_client, vendor, db):
    """Three bad values: three messages, each at its field, and nothing written."""
    response = post_form(vendor_client, "/vendor/settings/brand", {
        "accent_color": "red", "support_contact": "not a contact", "site_url": "javascript:alert(1)"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("accent_color", "support_contact", "site_url"):
        assert f'id="{field}-error"' in html, field
    assert db.get(Vendor, vendor.id).accent_color == ""


def test_a_colour_in_css_short_form_is_taken_as_its_long_form(vendor_client, db, vendor):
    """The newcomer's try: #fff was refused."""
    from portal.models import Vendor

    assert post_brand(vendor_client, accent_color=" #FA0 ").status_code == 303
    db.expire_all()
    assert db.get(Vendor, vendor.id).accent_color == "#ffaa00"
