"""The vendor's RSA pair that signs license answers: made on first use, kept encrypted, loaded once per process.

Making a 2048-bit pair costs ~70 ms and loading one ~50 ms, so a pair is made only for a vendor who uses the API
and each process keeps the loaded key objects here. The cache holds key objects only: which key a vendor has is
read from the database on every call (one small row), so a new pair or another database is never missed.
"""

import base64
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.api_models import SigningKey
from portal.security import Encryptor

KEY_BITS = 2048
_loaded: dict[tuple[int, str], rsa.RSAPrivateKey] = {}


def _modulus_b64(public: rsa.RSAPublicKey) -> str:
    n = public.public_numbers().n
    return base64.b64encode(n.to_bytes(KEY_BITS // 8, "big")).decode()


def ensure_key(session: Session, *, vendor_id: int, encryptor: Encryptor) -> SigningKey:
    """The vendor's signing key, made now if it has none (the caller commits); of two makers, the first wins."""
    found = session.exec(select(SigningKey).where(SigningKey.vendor_id == vendor_id)).first()
    if found is not None:
        return found
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    made = SigningKey(vendor_id=vendor_id, modulus=_modulus_b64(private.public_key()),
                      private_key_encrypted=encryptor.encrypt(pem))
    try:
        with session.begin_nested():
            session.add(made)
            session.flush()
    except IntegrityError:
        return session.exec(select(SigningKey).where(SigningKey.vendor_id == vendor_id)).one()
    _loaded[(vendor_id, made.modulus)] = private
    return made


def modulus_of(session: Session, *, vendor_id: int) -> str | None:
    return session.exec(select(SigningKey.modulus).where(SigningKey.vendor_id == vendor_id)).first()


def private_key(session: Session | Connection, *, vendor_id: int, modulus: str, encryptor: Encryptor
                ) -> rsa.RSAPrivateKey:
    """The loaded private key whose public modulus is `modulus`, from this process' cache or loaded once."""
    cached = _loaded.get((vendor_id, modulus))
    if cached is None:
        encrypted = session.execute(select(SigningKey.private_key_encrypted).where(
            SigningKey.vendor_id == vendor_id, SigningKey.modulus == modulus)).scalar_one()
        cached = serialization.load_pem_private_key(encryptor.decrypt(encrypted).encode(), password=None)
        _loaded[(vendor_id, modulus)] = cached
    return cached


def sign(key: rsa.RSAPrivateKey, data: bytes, *, sha512: bool = False) -> bytes:
    """RSASSA-PKCS1-v1_5 over `data` with SHA-256 (license keys) or SHA-512 (metadata)."""
    return key.sign(data, padding.PKCS1v15(), hashes.SHA512() if sha512 else hashes.SHA256())


def signed_metadata(key: rsa.RSAPrivateKey, data: dict, *, date: int) -> str:
    """Base64 JSON `{Data, Signature, Date}` (the clients' SignatureV1): the metadata's JSON, its SHA-512 signature
    and the Unix time of signing, as the clients check it."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    signature = sign(key, raw, sha512=True)
    envelope = {"Data": base64.b64encode(raw).decode(), "Signature": base64.b64encode(signature).decode(),
                "Date": date}
    return base64.b64encode(json.dumps(envelope).encode()).decode()


def public_key_xml(modulus: str) -> str:
    """The public key as the Cryptolens clients take it."""
    return f"<RSAKeyValue><Modulus>{modulus}</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>"


def public_key_pem(modulus: str) -> str:
    n = int.from_bytes(base64.b64decode(modulus), "big")
    public = rsa.RSAPublicNumbers(65537, n).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
