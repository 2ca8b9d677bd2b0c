"""The logo a vendor uploads, checked by its bytes and re-encoded by Pillow: what the portal serves is never the
upload itself (no SVG, no metadata, no trailing payload), only pixels Pillow decoded and wrote anew."""

import hashlib
import io
import warnings

from portal.domain import DomainError

LOGO_MAX_BYTES = 256 * 1024
# Pillow's own names for the formats a logo may come in, and the content type each is served with.
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
# Wider or taller logos are scaled down: the portal shows them a few dozen pixels high.
LOGO_MAX_SIDE = 512
# A decompression bomb (a small file of huge dimensions) is refused before its pixels are decoded.
_MAX_PIXELS = 25_000_000
_NOT_AN_IMAGE = "Upload a PNG, JPEG or WebP image (SVG and other formats are not accepted)."


def clean_logo(data: bytes) -> tuple[bytes, str]:
    """The logo as it will be stored and served, and its content type; DomainError (at the `logo` field) for
    anything but a PNG, JPEG or WebP image of at most LOGO_MAX_BYTES."""
    if not data:
        raise DomainError("Choose an image file.", field="logo")
    if len(data) > LOGO_MAX_BYTES:
        # Only the limit and one byte more are read of an upload (portal/branding/routes.py): its size is not known.
        raise DomainError(f"This file is larger than {LOGO_MAX_BYTES // 1024} KB: choose one of at most "
                          f"{LOGO_MAX_BYTES // 1024} KB.", field="logo")
    # Pillow (~5 MB in each worker) is loaded by the first logo uploaded, not by every process at start.
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(CONTENT_TYPES)) as image:
                kind = image.format
                if image.width * image.height > _MAX_PIXELS:
                    raise DomainError("The image is too large in pixels: use one under 5000 × 5000.", field="logo")
                image.seek(0)  # an animated image keeps its first frame
                image.load()
                cleaned = _reencode(ImageOps.exif_transpose(image), kind)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise DomainError(_NOT_AN_IMAGE, field="logo") from error
    if len(cleaned) > LOGO_MAX_BYTES:
        raise DomainError(f"The logo is too large once prepared: at most {LOGO_MAX_BYTES // 1024} KB.", field="logo")
    return cleaned, CONTENT_TYPES[kind]


def _reencode(image, kind: str) -> bytes:
    image = image.copy()
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
    if kind == "JPEG":
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    options = {"PNG": {"optimize": True}, "JPEG": {"quality": 88, "optimize": True},
               "WEBP": {"quality": 88}}[kind]
    image.save(out, format=kind, **options)  # no exif, icc or text chunks are passed on
    return out.getvalue()


def logo_version(data: bytes) -> str:
    """A short hash of the served bytes: part of the logo's address, so a new logo is a new URL to every cache."""
    return hashlib.sha256(data).hexdigest()[:16]
