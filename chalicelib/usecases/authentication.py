"""Who is calling: the partner behind a signed request."""
from __future__ import annotations

from chalicelib.domain import signing
from chalicelib.domain.partner import Partner
from chalicelib.persistence import config_repository, partner_guard, partner_secrets
from chalicelib.usecases.errors import Refusal, Refused


def authenticate(request: signing.SignedRequest, now: float) -> Partner:
    """The calling partner, or ``signing.AuthFailure`` (401) / ``Refused`` (403, 429).

    A nonce is claimed only once the signature is good, so nobody can burn a
    partner's nonces; the rate limit counts only authenticated requests.

    The partner's status is told only to a caller that proved it holds the
    secret, so a stranger cannot learn which partners exist or are disabled.
    """
    signing.check_headers(request, now)
    assert request.partner_id is not None
    partner = config_repository.partner(request.partner_id)
    secret = partner_secrets.secret(request.partner_id) if partner else None
    if partner is None or secret is None:
        raise signing.AuthFailure("PARTNER_UNKNOWN", "no partner has this X-Partner-Id")
    signing.verify(request, secret, now)
    if not partner.active:
        raise Refused(Refusal.FORBIDDEN, "PARTNER_DISABLED", "this partner is disabled")
    assert request.nonce is not None
    if not partner_guard.claim_nonce(partner.partner_id, request.nonce, int(now)):
        raise signing.AuthFailure("NONCE_REPLAYED", "this X-Nonce was used in the last 15 minutes")
    if not partner_guard.take_rate_slot(partner.partner_id, partner.rate_limit_per_minute, int(now)):
        raise Refused(Refusal.RATE_LIMITED, "RATE_LIMITED", f"more than {partner.rate_limit_per_minute} requests in a minute")
    return partner
