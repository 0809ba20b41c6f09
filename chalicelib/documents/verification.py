"""Whether a signed contract (or authorisation letter) is what the bank signed.

``verify_pdf`` answers, for the PDF's signatures (pyHanko's validation):

- ``signed``: the file carries at least one signature that can be read;
- ``intact``: every signature's digest matches the bytes it covers, its
  cryptographic value is right, and the last one covers the whole file (nothing
  was appended after the bank signed);
- ``trusted``: every signer's certificate chains to one of the trust roots
  (the CA's root certificates, PEM), valid now, for non-repudiation;
- ``signer``, ``signed_at``: who signed last (organisation and common name of the
  certificate's subject) and when they say they did (the signed signing time);
- ``sha256``: of the whole file; ``hash_matches``: whether it equals the hash on
  record (``None`` when none is given).

Never raises on a bad file: a file that cannot be read, or a signature that
cannot be validated, is reported as not signed or not intact, with the reasons
in ``problems``.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContractVerification:
    signed: bool
    intact: bool  # the signed bytes unchanged, and the signature covering the whole file
    trusted: bool  # chains to a trust root
    signer: str | None  # the signer's organisation and common name
    signed_at: datetime | None
    sha256: str  # of the file
    hash_matches: bool | None  # None when no expected hash was given
    problems: tuple[str, ...] = ()  # why not valid, in words

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.trusted and self.hash_matches is not False


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_certificates(pems: Iterable[bytes]) -> list[Any]:
    """asn1crypto certificates from PEM (or DER) blobs; a blob may hold several PEM certificates."""
    from asn1crypto import pem, x509

    found = []
    for blob in pems:
        if pem.detect(blob):
            for _, _, der in pem.unarmor(blob, multiple=True):
                found.append(x509.Certificate.load(der))
        else:
            found.append(x509.Certificate.load(blob))
    return found


def subject_name(certificate: Any) -> str | None:
    """``东城农村商业银行 (BR_DONGCHENG document signing)``: the subject's O and CN."""
    native = certificate.subject.native
    organisation, common_name = native.get("organization_name"), native.get("common_name")
    if isinstance(organisation, list):
        organisation = " ".join(organisation)
    if organisation and common_name:
        return f"{organisation} ({common_name})"
    return organisation or common_name or None


def verify_pdf(pdf: bytes, trust_roots_pem: list[bytes], expected_sha256: str | None = None) -> ContractVerification:
    digest = sha256_hex(pdf)
    hash_matches = None if expected_sha256 is None else hmac.compare_digest(digest, expected_sha256.strip().lower())
    problems: list[str] = [] if hash_matches is not False else ["the file's SHA-256 is not the one expected"]

    def result(signed: bool, intact: bool, trusted: bool, signer: str | None = None, signed_at: datetime | None = None) -> ContractVerification:
        return ContractVerification(signed, intact, trusted, signer, signed_at, digest, hash_matches, tuple(problems))

    try:
        roots = load_certificates(trust_roots_pem)
    except Exception as exc:  # a bad trust root is the caller's configuration, but still no exception
        problems.append(f"a trust root could not be read ({type(exc).__name__})")
        roots = []
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader

        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any damage to the file: not signed, never an exception
        problems.append(f"the file cannot be read as a PDF ({type(exc).__name__})")
        return result(False, False, False)
    if not signatures:
        problems.append("the file carries no signature")
        return result(False, False, False)

    intact = trusted = True
    signer = signed_at = None
    for index, embedded in enumerate(signatures):
        last = index == len(signatures) - 1
        name = _field_name(embedded)
        try:
            status = _validate(embedded, roots)
        except Exception as exc:  # noqa: BLE001 - a signature that cannot be validated is not intact
            log.info("signature validation failed: %s", type(exc).__name__)
            problems.append(f"signature {name}: cannot be validated ({type(exc).__name__})")
            intact = trusted = False
            continue
        if not (status.intact and status.valid):
            intact = False
            problems.append(f"signature {name}: the signed bytes were changed or the signature value is wrong")
        if last and not _covers_whole_file(status):
            intact = False
            problems.append(f"signature {name}: does not cover the whole file (something was added after signing)")
        if not status.trusted:
            trusted = False
            problems.append(f"signature {name}: the signer's certificate does not chain to a trust root")
        if last:
            try:
                signer = subject_name(status.signing_cert)
            except Exception:  # noqa: BLE001
                signer = None
            signed_at = status.signer_reported_dt
    return result(True, intact, trusted, signer, signed_at)


def _field_name(embedded: Any) -> str:
    try:
        return str(embedded.field_name)
    except Exception:  # noqa: BLE001
        return "?"


def _validate(embedded: Any, roots: list[Any]) -> Any:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    return validate_pdf_signature(embedded, signer_validation_context=context)


def _covers_whole_file(status: Any) -> bool:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    return status.coverage == SignatureCoverageLevel.ENTIRE_FILE
