"""A local certificate authority for the local stack and the tests (never for production).

``make_ca()`` makes a self-signed root; ``issue_branch_certificate`` a branch's
document-signing certificate under it (key usage digitalSignature and
nonRepudiation, subject O=<branch name>, CN=<branch code> document signing).
EC P-256 throughout, so making a CA and a few branches takes milliseconds.
On AWS the CA is a real one and its root is the trust root in Parameter Store.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PLATFORM_NAME = "省农村信用社联合社(本地测试)"
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning (RFC 9336)


def _pem_certificate(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@dataclass(frozen=True)
class LocalCa:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def __repr__(self) -> str:  # never the key
        return f"LocalCa({self.certificate.subject.rfc4514_string()!r})"

    @property
    def certificate_pem(self) -> bytes:
        """The trust root."""
        return _pem_certificate(self.certificate)

    @property
    def key_pem(self) -> bytes:
        return _pem_key(self.key)


@dataclass(frozen=True)
class IssuedCertificate:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    issuer: x509.Certificate

    def __repr__(self) -> str:  # never the key
        return f"IssuedCertificate({self.certificate.subject.rfc4514_string()!r})"

    @property
    def key_pem(self) -> bytes:
        """The private key, PKCS#8 PEM, unencrypted (Parameter Store encrypts it at rest)."""
        return _pem_key(self.key)

    @property
    def certificate_pem(self) -> bytes:
        return _pem_certificate(self.certificate)

    @property
    def chain_pem(self) -> bytes:
        """The certificate then its issuer's: what ``{path}/branches/{branch}/certificate`` holds."""
        return _pem_certificate(self.certificate) + _pem_certificate(self.issuer)


def _serial() -> int:
    return x509.random_serial_number()


def make_ca(name: str = "Zhudai Local Document Signing CA", *, valid_days: int = 3650, now: datetime | None = None) -> LocalCa:
    """A self-signed root (EC P-256), valid from a day before ``now``."""
    now = now or datetime.now(timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, PLATFORM_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(_serial())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return LocalCa(key, certificate)


def issue_branch_certificate(
    ca: LocalCa, branch_code: str, branch_name: str, *, valid_days: int = 825, now: datetime | None = None
) -> IssuedCertificate:
    """A branch's document-signing certificate (EC P-256), issued by ``ca``."""
    now = now or datetime.now(timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, branch_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{branch_code} document signing"),
        ]
    )
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(_serial())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(min(now + timedelta(days=valid_days), ca.certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return IssuedCertificate(key, certificate, ca.certificate)
