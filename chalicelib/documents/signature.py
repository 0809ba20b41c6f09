"""The bank's PAdES signature (电子签章) on a PDF, with pyHanko.

One invisible signature field (``BankSignature`` by default) added as an
incremental update; subfilter ETSI.CAdES.detached (PAdES baseline B-B), SHA-256,
the signing time as a signed attribute; no timestamp server. The signature
covers the whole file as it leaves here: anything appended later shows in
``documents.verification.verify_pdf``.
"""
from __future__ import annotations

import io
from typing import Any

DEFAULT_FIELD = "BankSignature"
SIGNATURE_SLACK = 2048  # bytes beyond the certificates: signed attributes, algorithm ids, the signature value


def bytes_to_reserve(signer: Any) -> int | None:
    """Room for the signature (hex digits): the embedded certificates plus ``SIGNATURE_SLACK``.

    Sized from the certificates instead of pyHanko's estimate, which builds and signs
    a whole trial signature (two fifths of the signing time). None: let pyHanko estimate."""
    if signer.signing_cert is None:
        return None
    certificates = {signer.signing_cert.dump(), *(c.dump() for c in signer.cert_registry)}
    return 2 * (sum(len(c) for c in certificates) + SIGNATURE_SLACK)


def sign_pdf(pdf: bytes, signer: Any, *, field_name: str = DEFAULT_FIELD, reason: str, location: str) -> bytes:
    """``pdf`` signed by ``signer`` (a ``pyhanko.sign.signers.Signer``)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    out = signers.PdfSigner(meta, signer=signer).sign_pdf(writer, bytes_reserved=bytes_to_reserve(signer))
    return out.getvalue()
