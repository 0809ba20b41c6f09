"""Personal data at rest: envelope encryption with KMS, and the keyed hash of an ID number.

- ``seal`` encrypts a small dict (name, ID, mobile, card number) with AES-256-GCM
  under a data key from KMS ``GenerateDataKey``; the sealed form carries the
  encrypted data key, so only a holder of ``kms:Decrypt`` on the PII key can open
  it. As the AWS Encryption SDK's caching does, a data key is reused for at most
  5 minutes and 10,000 records, so KMS is not called once per application.
- ``keyed_hash`` is KMS ``GenerateMac`` (HMAC-SHA-256) of the ID number under a
  key that never leaves KMS: the customer master finds a person by it, and a
  stolen table cannot be reversed by hashing every possible ID number.
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalicelib import resources, settings
from chalicelib.aws_clients import client

DATA_KEY_SECONDS = 300
DATA_KEY_USES = 10_000
KMS_CONTEXT = {"app": resources.APP_NAME, "purpose": "pii"}
VERSION = 1


@dataclass
class _DataKey:
    plaintext: bytes
    encrypted: bytes
    expires: float
    uses: int = 0


_lock = threading.Lock()
_current: dict[tuple[str, str | None], _DataKey] = {}
_opened: dict[bytes, bytes] = {}


def _data_key() -> _DataKey:
    key_id = settings.env(resources.PII_KEY.env)
    slot = (key_id, settings.aws_endpoint())
    with _lock:
        key = _current.get(slot)
        if key is None or key.expires < time.monotonic() or key.uses >= DATA_KEY_USES:
            made = client("kms").generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=KMS_CONTEXT)
            key = _DataKey(made["Plaintext"], made["CiphertextBlob"], time.monotonic() + DATA_KEY_SECONDS)
            _current[slot] = key
        key.uses += 1
        return key


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(values: dict[str, str], context: dict[str, str]) -> dict[str, Any]:
    """Encrypt ``values``; ``context`` (e.g. the application id) is bound to the ciphertext."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = _data_key()
    nonce = os.urandom(12)
    data = AESGCM(key.plaintext).encrypt(nonce, json.dumps(values, ensure_ascii=False).encode("utf-8"), _aad(context))
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return {"v": VERSION, "key": b64(key.encrypted), "nonce": b64(nonce), "data": b64(data)}


def unseal(sealed: dict[str, Any], context: dict[str, str]) -> dict[str, str]:
    """Decrypt what ``seal`` made with the same ``context``; fails if either was altered."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    encrypted = base64.b64decode(sealed["key"])
    with _lock:
        plaintext = _opened.get(encrypted)
    if plaintext is None:
        # Naming the key (as AWS recommends) means a ciphertext of any other key is refused.
        plaintext = client("kms").decrypt(
            CiphertextBlob=encrypted, KeyId=settings.env(resources.PII_KEY.env), EncryptionContext=KMS_CONTEXT
        )["Plaintext"]
        with _lock:
            _opened[encrypted] = plaintext
    data = AESGCM(plaintext).decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["data"]), _aad(context))
    return json.loads(data.decode("utf-8"))


def keyed_hash(id_number: str) -> str:
    mac = client("kms").generate_mac(
        KeyId=settings.env(resources.PII_HASH_KEY.env), MacAlgorithm="HMAC_SHA_256", Message=id_number.encode("utf-8")
    )["Mac"]
    return mac.hex()


def clear_cache() -> None:
    with _lock:
        _current.clear()
        _opened.clear()
