"""Verify a signed contract or authorisation letter: who signed it, when, whether it is intact and trusted.

    python tools/verify_contract.py CONTRACT.pdf [--trust-root CA.pem ...] [--sha256 HEX]
    python tools/verify_contract.py CONTRACT.pdf --application-id AP...   (with the stage's AWS environment)

Prints the signer, the signing time, whether the signed bytes are unchanged and
cover the whole file, whether the signer's certificate chains to one of the
trust roots, and (with ``--sha256``, e.g. the hash on the loan record) whether
the file is the one recorded. With ``--application-id`` the hash is read from
the application's record (its contract or its authorisation letter, whichever
the file claims to be) and, without ``--trust-root``, the trust roots from the
signing configuration: this needs the stage's AWS environment (credentials,
region, table and parameter names, as the functions get them). Exit status 0
when valid, 1 otherwise (2 for a usage error).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.documents.verification import ContractVerification, verify_pdf  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pdf", type=Path, help="the signed PDF")
    p.add_argument("--trust-root", type=Path, action="append", default=[], metavar="PEM_FILE", help="a CA root certificate (PEM); repeat for several")
    p.add_argument("--sha256", metavar="HEX", help="the SHA-256 the file must have (e.g. the one on the loan record)")
    p.add_argument("--application-id", metavar="ID", help="compare with the hashes on this application's record (needs the stage's AWS environment)")
    return p


def recorded(application_id: str, pdf: bytes) -> tuple[str | None, list[bytes]]:
    """The SHA-256 the record holds for this file (the contract's or the authorisation's), and the trust roots."""
    import hashlib

    from chalicelib.persistence import applications
    from chalicelib.ports.ca import trust_roots

    item = applications.get(application_id)
    if item is None or not item.contract:
        return None, []
    hashes = [item.contract[kind]["sha256"] for kind in ("contract", "authorisation")]
    actual = hashlib.sha256(pdf).hexdigest()
    return (actual if actual in hashes else hashes[0]), trust_roots()


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def report(name: str, result: ContractVerification) -> list[str]:
    hash_line = {None: "not checked", True: "matches", False: "DOES NOT MATCH"}[result.hash_matches]
    lines = [
        f"file:      {name}",
        f"sha256:    {result.sha256}",
        f"signed:    {_yes(result.signed)}",
        f"signer:    {result.signer or '-'}",
        f"signed at: {result.signed_at.isoformat() if result.signed_at else '-'}",
        f"intact:    {_yes(result.intact)}",
        f"trusted:   {_yes(result.trusted)}",
        f"hash:      {hash_line}",
    ]
    lines += [f"problem:   {problem}" for problem in result.problems]
    lines.append(f"result:    {'VALID' if result.valid else 'NOT VALID'}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        pdf = args.pdf.read_bytes()
        roots = [path.read_bytes() for path in args.trust_root]
    except OSError as exc:
        print(f"cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    expected = args.sha256
    if args.application_id:
        expected, stored_roots = recorded(args.application_id, pdf)
        if expected is None:
            print(f"no signed contract is recorded for {args.application_id}", file=sys.stderr)
            return 1
        roots = roots or stored_roots
    if not roots:
        print("no --trust-root given: the signer cannot be trusted", file=sys.stderr)
    result = verify_pdf(pdf, roots, expected)
    print("\n".join(report(str(args.pdf), result)))
    return 0 if result.valid else 1


if __name__ == "__main__":
    sys.exit(main())
