"""The CA (CA加签): the bank's electronic seal on contracts and authorisation letters.

Each branch signs its own documents with its document-signing certificate,
issued by the CA; a PDF it signs verifies against the CA's root (the trust
root). Implementations of ``DocumentSigner``:

- ``KeySigner``: the branch's private key (EC P-256 from the local CA; any key
  pyHanko's ``SimpleSigner`` takes) and certificate chain, signing in-process.
- ``HttpCaSigner``: the CA's remote signing service; the private key never
  leaves the CA. pyHanko builds the CMS signed attributes, the client sends
  their digest, the CA answers the raw signature, pyHanko embeds it
  (``RemoteSigner``, a pyHanko ``Signer`` whose ``async_sign_raw`` calls the
  service). The answer is checked against the certificate's public key before
  it is embedded.

``branch_signer(branch_code)`` and ``trust_roots()`` read the credentials from
the ``SIGNING_CREDENTIALS`` tree in Parameter Store (SecureString, decrypted,
cached ``CREDENTIALS_CACHE_SECONDS`` by Powertools; boto3 and Powertools are
imported on first use); ``CA_SIGNING_MODE`` chooses the implementation:

=================================================  ===========================================
``{path}/branches/{branch}/key``                   the branch's private key, PEM (mode "keys")
``{path}/branches/{branch}/certificate``           its certificate, then the issuing chain, PEM
``{path}/trust-root``                              the CA's root certificate(s), PEM
``{path}/ca-client/client_id``, ``client_secret``  the CA service's client (mode "http")
=================================================  ===========================================

The CA signing service (assumed)
--------------------------------

``POST {CA_SIGNING_URL}/v1/signatures`` with a JSON body::

    {"request_id": "...",
     "certificate_sha256": "<hex SHA-256 of the DER signing certificate: which key signs>",
     "digest_algorithm": "sha256",
     "digest": "<base64 of the digest of the DER-encoded CMS signed attributes>",
     "signature_algorithm": "ecdsa" | "rsassa_pkcs1v15"}

signed like the other gateways (``ports/signed_http.SignedPoster``): headers
``X-Client-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Signature`` (hex
HMAC-SHA256 of ``POST\\n{path}\\n{timestamp}\\n{nonce}\\n{hex sha256 of the
body}``) and ``X-Request-Id`` (= ``request_id``, the same for the same digest
and certificate). A 200 answers ``{"signature": "<base64 of the raw signature:
DER ECDSA-Sig-Value or the RSA signature block>"}``; errors answer ``{"code",
"message"}``.

=================================================  =====================================
no answer within ``timeout_seconds``               ``SigningUnavailable`` (retry later)
connection refused or reset; 5xx or 429; a 200
that cannot be read
any other 4xx (unknown certificate, auth)          ``SigningRejected`` (do not retry)
a signature that does not verify with the
certificate (the CA used another key)
=================================================  =====================================

A branch without credentials: ``NoSigningCredentials``. Nothing here logs or
raises with document content or personal data; key material never appears in
a ``repr`` or a message.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import json
import re
import time
from typing import Any, Callable, Protocol

from chalicelib import resources, settings
from chalicelib.ports.signed_http import Failed, NoAnswer, SignedPoster, Unreachable, endpoint

SIGNATURES_PATH = "/v1/signatures"
CREDENTIALS_CACHE_SECONDS = 300
MODES = ("keys", "http")
_BRANCH_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")


class NoSigningCredentials(LookupError):
    """The branch (or the platform) has no signing credentials in Parameter Store."""


class SigningFailed(Exception):
    """The CA did not give a usable signature."""


class SigningUnavailable(SigningFailed):
    """The CA service did not answer usefully (timeout, 5xx, 429, garbled): retry later."""


class SigningRejected(SigningFailed):
    """The CA service refused (4xx), or signed with a key that is not the certificate's: do not retry."""


class DocumentSigner(Protocol):
    subject: str  # who signs: the certificate subject's organisation and common name

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        """``pdf`` with the bank's PAdES signature added."""
        ...


# -- certificates -------------------------------------------------------------------------------


def _certificates(chain_pem: bytes) -> list[Any]:
    from chalicelib.documents.verification import load_certificates

    try:
        certificates = load_certificates([chain_pem])
    except Exception as exc:  # noqa: BLE001 - never echo the input
        raise ValueError(f"the certificate chain cannot be read ({type(exc).__name__})") from None
    if not certificates:
        raise ValueError("the certificate chain holds no certificate")
    return certificates


def _leaf(certificates: list[Any], public_key_der: bytes | None = None) -> Any:
    """The signing certificate: the one with ``public_key_der``, else the first that is not a CA."""
    if public_key_der is not None:
        for certificate in certificates:
            if certificate.public_key.dump() == public_key_der:
                return certificate
        raise ValueError("no certificate in the chain matches the signing key")
    return next((c for c in certificates if not c.ca), certificates[0])


def _subject(certificate: Any) -> str:
    from chalicelib.documents.verification import subject_name

    return subject_name(certificate) or certificate.subject.human_friendly


def _registry(certificates: list[Any]) -> Any:
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return SimpleCertificateStore.from_certs(certificates)


# -- signing in-process with the branch's key ----------------------------------------------------


class KeySigner:
    """Signs with the branch's private key, in-process (pyHanko ``SimpleSigner``)."""

    def __init__(self, key_pem: bytes, certificate_chain_pem: bytes):
        from asn1crypto import keys
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign.signers import SimpleSigner

        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except Exception as exc:  # noqa: BLE001 - never echo the key
            raise ValueError(f"the signing key cannot be read ({type(exc).__name__})") from None
        public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        certificates = _certificates(certificate_chain_pem)
        leaf = _leaf(certificates, public_der)
        key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self.subject = _subject(leaf)
        self.certificate = leaf
        self._signer = SimpleSigner(signing_cert=leaf, signing_key=keys.PrivateKeyInfo.load(key_der), cert_registry=_registry(certificates))

    def __repr__(self) -> str:  # never the key
        return f"KeySigner({self.subject!r})"

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        from chalicelib.documents.signature import sign_pdf

        return sign_pdf(pdf, self._signer, reason=reason, location=location)


# -- the CA's remote signing service --------------------------------------------------------------


def _signature_algorithm(certificate: Any) -> str:
    algorithm = certificate.public_key.algorithm
    if algorithm == "ec":
        return "ecdsa"
    if algorithm == "rsa":
        return "rsassa_pkcs1v15"
    raise ValueError(f"the CA service signs EC and RSA keys, not {algorithm}")


def _placeholder_size(certificate: Any) -> int:
    """Enough bytes for the signature (pyHanko's dry run sizes the signature's room with it)."""
    if certificate.public_key.algorithm == "ec":
        return 2 * ((certificate.public_key.bit_size + 7) // 8) + 9  # DER ECDSA-Sig-Value, at most
    return (certificate.public_key.bit_size + 7) // 8


class HttpCaSigner:
    """Signs through the CA's signing service: only a digest goes out, only a signature comes back."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        certificate_chain_pem: bytes,
        *,
        timeout_seconds: float = 10.0,
        http: Any = None,
        clock: Callable[[], float] = time.time,
    ):
        if not timeout_seconds > 0:
            raise ValueError("timeout_seconds must be more than 0")
        self._url = endpoint(base_url, SIGNATURES_PATH)
        self._poster = SignedPoster(client_id, client_secret, http, clock)
        self._timeout = float(timeout_seconds)
        certificates = _certificates(certificate_chain_pem)
        self.certificate = _leaf(certificates)
        self.subject = _subject(self.certificate)
        self.certificate_sha256 = hashlib.sha256(self.certificate.dump()).hexdigest()
        self._algorithm = _signature_algorithm(self.certificate)
        self._signer = _remote_signer_class()(self, self.certificate, _registry(certificates))

    def __repr__(self) -> str:  # never the secret
        return f"HttpCaSigner({self.subject!r}, client_id={self._poster.client_id!r})"

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        from chalicelib.documents.signature import sign_pdf

        return sign_pdf(pdf, self._signer, reason=reason, location=location)

    def sign_digest(self, digest: bytes, digest_algorithm: str) -> bytes:
        """The raw signature of ``digest`` by the certificate's key, from the CA service."""
        request_id = hashlib.sha256(f"{self.certificate_sha256}\x00{digest.hex()}".encode()).hexdigest()[:32]
        body = json.dumps(
            {
                "request_id": request_id,
                "certificate_sha256": self.certificate_sha256,
                "digest_algorithm": digest_algorithm,
                "digest": base64.b64encode(digest).decode("ascii"),
                "signature_algorithm": self._algorithm,
            },
            separators=(",", ":"),
        ).encode("utf-8")
        try:
            status, data = self._poster.post(self._url, body, request_id, self._timeout)
        except NoAnswer:
            raise SigningUnavailable(f"the CA gave no answer within {self._timeout:g} s") from None
        except (Unreachable, Failed) as exc:
            raise SigningUnavailable(f"the CA cannot be reached ({exc})") from None
        if status == 429 or status >= 500:
            raise SigningUnavailable(f"the CA answered {status}{_error_code(data)}")
        if status != 200:
            raise SigningRejected(f"the CA refused: {status}{_error_code(data)}")
        try:
            answer = json.loads(data.decode("utf-8"))
            signature = base64.b64decode(answer["signature"], validate=True)
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, binascii.Error):
            raise SigningUnavailable("the CA's answer cannot be read") from None
        if not signature:
            raise SigningUnavailable("the CA's answer holds no signature")
        self._check(signature, digest, digest_algorithm)
        return signature

    def _check(self, signature: bytes, digest: bytes, digest_algorithm: str) -> None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

        public = serialization.load_der_public_key(self.certificate.public_key.dump())
        prehashed = utils.Prehashed(getattr(hashes, digest_algorithm.upper())())
        try:
            if isinstance(public, ec.EllipticCurvePublicKey):
                public.verify(signature, digest, ec.ECDSA(prehashed))
            elif isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, digest, padding.PKCS1v15(), prehashed)
            else:  # pragma: no cover - refused in __init__
                raise InvalidSignature()
        except (InvalidSignature, ValueError):
            raise SigningRejected("the CA's signature does not verify with the branch's certificate") from None


def _error_code(data: bytes) -> str:
    try:
        code = json.loads(data.decode("utf-8")).get("code")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return ""
    return f" ({str(code)[:40]})" if isinstance(code, str) and code else ""


@functools.cache
def _remote_signer_class() -> type:
    """The pyHanko ``Signer`` subclass, made on first use (pyHanko is not imported at cold start)."""
    from pyhanko.sign.signers import Signer

    class RemoteSigner(Signer):
        """pyHanko's view of the CA service: it hashes the signed attributes, the service signs."""

        def __init__(self, service: HttpCaSigner, certificate: Any, registry: Any):
            super().__init__(signing_cert=certificate, cert_registry=registry)
            self._service = service

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            if dry_run:
                return bytes(_placeholder_size(self.signing_cert))
            digest = hashlib.new(digest_algorithm, data).digest()
            return await asyncio.to_thread(self._service.sign_digest, digest, digest_algorithm)

    return RemoteSigner


# -- the credentials in Parameter Store -------------------------------------------------------------


def _path() -> str:
    return settings.env(resources.SIGNING_CREDENTIALS.env)


def _branch(branch_code: str) -> str:
    if not isinstance(branch_code, str) or not _BRANCH_CODE.fullmatch(branch_code):
        raise ValueError("branch_code: must be a branch code such as BR_DONGCHENG")
    return branch_code


def key_parameter(branch_code: str) -> str:
    return f"{_path()}/branches/{_branch(branch_code)}/key"


def certificate_parameter(branch_code: str) -> str:
    return f"{_path()}/branches/{_branch(branch_code)}/certificate"


def trust_root_parameter() -> str:
    return f"{_path()}/trust-root"


def client_parameter(name: str) -> str:
    if name not in ("client_id", "client_secret"):
        raise ValueError("name: client_id or client_secret")
    return f"{_path()}/ca-client/{name}"


def _read(name: str) -> str | None:
    from chalicelib.persistence import secure_parameters

    return secure_parameters.read(name, CREDENTIALS_CACHE_SECONDS)


@functools.lru_cache(maxsize=64)
def _key_signer(key_pem: bytes, chain_pem: bytes) -> KeySigner:
    return KeySigner(key_pem, chain_pem)


@functools.lru_cache(maxsize=64)
def _http_signer(base_url: str, client_id: str, client_secret: str, chain_pem: bytes) -> HttpCaSigner:
    return HttpCaSigner(base_url, client_id, client_secret, chain_pem)


def mode() -> str:
    chosen = settings.env("CA_SIGNING_MODE", "keys")
    if chosen not in MODES:
        raise settings.ConfigurationError(f"CA_SIGNING_MODE must be one of {', '.join(MODES)}, not {chosen!r}")
    return chosen


def branch_signer(branch_code: str) -> DocumentSigner:
    """The branch's signer, by ``CA_SIGNING_MODE``; ``NoSigningCredentials`` when it has none."""
    chosen = mode()
    chain = _read(certificate_parameter(branch_code))
    if chain is None:
        raise NoSigningCredentials(f"branch {branch_code} has no signing certificate")
    if chosen == "keys":
        key = _read(key_parameter(branch_code))
        if key is None:
            raise NoSigningCredentials(f"branch {branch_code} has no signing key")
        return _key_signer(key.encode("utf-8"), chain.encode("utf-8"))
    client_id, client_secret = _read(client_parameter("client_id")), _read(client_parameter("client_secret"))
    if not client_id or not client_secret:
        raise NoSigningCredentials("the CA signing service's client is not configured")
    return _http_signer(settings.env("CA_SIGNING_URL"), client_id, client_secret, chain.encode("utf-8"))


def trust_roots() -> list[bytes]:
    """The CA's root certificates, one PEM each; ``NoSigningCredentials`` when none is stored."""
    from asn1crypto import pem

    stored = _read(trust_root_parameter())
    if not stored:
        raise NoSigningCredentials("no trust root is configured")
    blob = stored.encode("utf-8")
    return [pem.armor("CERTIFICATE", der) for _, _, der in pem.unarmor(blob, multiple=True)]


def _put(name: str, value: str) -> None:
    from chalicelib.persistence import secure_parameters

    secure_parameters.put(name, value)


def put_branch_credentials(branch_code: str, certificate_chain_pem: bytes, key_pem: bytes | None = None) -> None:
    """Store a branch's certificate chain, and its key for mode "keys" (local stack and operators' tooling)."""
    _put(certificate_parameter(branch_code), certificate_chain_pem.decode("ascii"))
    if key_pem is not None:
        _put(key_parameter(branch_code), key_pem.decode("ascii"))
    clear_cache()


def put_trust_root(certificate_pem: bytes) -> None:
    _put(trust_root_parameter(), certificate_pem.decode("ascii"))
    clear_cache()


def put_ca_client(client_id: str, client_secret: str) -> None:
    """The CA signing service's client (mode "http")."""
    _put(client_parameter("client_id"), client_id)
    _put(client_parameter("client_secret"), client_secret)
    clear_cache()


def clear_cache() -> None:
    from chalicelib.persistence import secure_parameters

    secure_parameters.clear_cache()
    _key_signer.cache_clear()
    _http_signer.cache_clear()
