"""eBay's digital signatures (EU/UK sellers): RFC 9421 HTTP message signatures with Ed25519.

eBay requires them on every Finances call made for a seller domiciled in the EU or the UK
(guide "Digital Signatures for APIs"; contract: api-contracts.md §3.3). Four headers:

* ``x-ebay-signature-key``: the JWE that eBay's Key Management API returned with the key pair;
* ``Content-Digest``: ``sha-256=:<base64>:`` of the body, only when there is one;
* ``Signature-Input``: ``sig1=("content-digest" "x-ebay-signature-key" "@method" "@path"
  "@authority");created=<unix time>`` (without ``"content-digest"`` when there is no body);
* ``Signature``: ``sig1=:<base64 Ed25519 signature over the signature base>:``.

The signature base is one line per component, ``"<name>": <value>``, joined by ``\\n``, ending
with the ``"@signature-params"`` line (RFC 9421 §2.5). ``@path`` is the path without the query,
``@authority`` the host in lower case with the port when it is not the scheme's default.

The private key is held as a key object only; no message here ever quotes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

LABEL = "sig1"
KEY_HEADER = "x-ebay-signature-key"
COMPONENTS = (KEY_HEADER, "@method", "@path", "@authority")
KEY_FORMATS = "an Ed25519 private key: PEM, or base64 of PKCS#8 DER (as eBay's Key Management API returns it) or of the 32 raw bytes"


def load_private_key(text: str, name: str = "the signing key") -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, base64 PKCS#8 DER, or base64 raw 32 bytes (never echoed)."""
    text = (text or "").strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = base64.b64decode("".join(text.split()), validate=True)
            key = (Ed25519PrivateKey.from_private_bytes(raw) if len(raw) == 32
                   else serialization.load_der_private_key(raw, password=None))
    except (ValueError, TypeError, binascii.Error):
        key = None  # the library's message is dropped on purpose: keep key material out of errors
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{name} is not {KEY_FORMATS}")
    return key


def content_digest(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def signature_params(components: tuple[str, ...], created: int) -> str:
    return "(" + " ".join(f'"{c}"' for c in components) + f");created={created}"


def signature_base(values: Mapping[str, str], components: tuple[str, ...], created: int) -> str:
    """RFC 9421 §2.5: each covered component's line, then the ``@signature-params`` line."""
    lines = [f'"{c}": {values[c]}' for c in components]
    lines.append(f'"@signature-params": {signature_params(components, created)}')
    return "\n".join(lines)


class RequestSigner:
    """Signs one request at a time (see module doc); ``clock`` gives Unix seconds for ``created``."""

    def __init__(self, private_key: str, jwe: str, clock: Callable[[], float]) -> None:
        if not jwe.strip():
            raise ValueError("the signing key needs its JWE (x-ebay-signature-key)")
        self._key = load_private_key(private_key)
        self.jwe = jwe.strip()
        self._clock = clock

    def headers(self, method: str, path: str, authority: str, body: bytes = b"") -> dict[str, str]:
        created = int(self._clock())
        values = {KEY_HEADER: self.jwe, "@method": method.upper(), "@path": path, "@authority": authority.lower()}
        components = COMPONENTS
        signed = {KEY_HEADER: self.jwe}
        if body:
            values["content-digest"] = signed["Content-Digest"] = content_digest(body)
            components = ("content-digest", *COMPONENTS)
        signature = self._key.sign(signature_base(values, components, created).encode())
        signed["Signature-Input"] = f"{LABEL}={signature_params(components, created)}"
        signed["Signature"] = f"{LABEL}=:{base64.b64encode(signature).decode()}:"
        return signed
