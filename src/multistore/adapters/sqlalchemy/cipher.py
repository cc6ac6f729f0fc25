"""Encryption of personal information (PIPL) at rest: a small seam and its AES-GCM default.

The member repository stores ``name`` and ``phone`` only through a :class:`Cipher`. The default
:class:`AesGcmCipher` uses AES-256-GCM from the ``cryptography`` package with a fresh random
nonce per value and the row id and field name as associated data, so a ciphertext copied into
another row or column fails to decrypt. Bring your own (a KMS, Vault transit, an HSM) by passing
any object with ``encrypt``/``decrypt`` to :func:`multistore.adapters.sqlalchemy.create_storage`.

Where the default key comes from (first match wins):

1. ``MULTISTORE_PII_KEY``: 32 bytes, URL-safe base64 (make one with :func:`new_key`);
2. SQLite: a key file next to the database (``shop.db.key``, mode 0600), created on first use;
3. PostgreSQL: a key generated once and kept in the ``multistore_settings`` table, which only
   keeps PII out of casual reads and dumps of the member table. Set ``MULTISTORE_PII_KEY`` in
   production.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from multistore.errors import StorageError, ValidationError

__all__ = ["KEY_ENV", "AesGcmCipher", "Cipher", "key_from_file", "new_key"]

KEY_ENV = "MULTISTORE_PII_KEY"
"""Environment variable holding the PII key (URL-safe base64 of 32 bytes)."""

_VERSION = "v1"
_NONCE = 12


@runtime_checkable
class Cipher(Protocol):
    """Encrypts and decrypts one text field; ``context`` binds the ciphertext to its place."""

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Return printable ciphertext for ``plaintext`` (different each call)."""
        ...

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        """Return the plaintext; raise if the ciphertext was altered or moved."""
        ...


def new_key() -> str:
    """Return a new random 256-bit key as URL-safe base64 text (for ``MULTISTORE_PII_KEY``)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationError(
            "the PII key must be 32 random bytes in URL-safe base64; generate one with "
            "multistore.adapters.sqlalchemy.new_key()",
            code="storage.invalid_key",
        )
    return raw


class AesGcmCipher:
    """AES-256-GCM with a random 96-bit nonce per value; output ``v1:<base64(nonce+ct)>``.

    Args:
        key: 32 raw bytes, or their URL-safe base64 text.

    Raises:
        ValidationError: ``storage.invalid_key`` when the key is not 32 bytes.
    """

    def __init__(self, key: bytes | str) -> None:
        raw = _decode_key(key) if isinstance(key, str) else key
        if len(raw) != 32:
            raise ValidationError(
                "the PII key must be exactly 32 bytes", code="storage.invalid_key"
            )
        self._aead = AESGCM(raw)

    @classmethod
    def from_env(cls) -> AesGcmCipher | None:
        """Return a cipher keyed by ``MULTISTORE_PII_KEY``, or ``None`` when it is unset."""
        text = os.environ.get(KEY_ENV, "").strip()
        return cls(text) if text else None

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context`` (e.g. ``"members:M1:phone"``)."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, ciphertext: str, *, context: str) -> str:
        """Decrypt a value made by :meth:`encrypt` with the same ``context``.

        Raises:
            StorageError: ``storage.decrypt_failed`` for a wrong key, an altered value, or a
                value copied from another row or field.
        """
        version, _, body = ciphertext.partition(":")
        try:
            if version != _VERSION:
                raise ValueError(version)
            blob = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode("utf-8"))
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise StorageError(
                f"cannot decrypt {context}: wrong key or tampered value; check "
                f"{KEY_ENV} matches the key the data was written with",
                code="storage.decrypt_failed",
            ) from exc
        return plain.decode("utf-8")


def key_from_file(path: Path) -> str:
    """Return the key stored in ``path``, creating the file (mode 0600) with a new key if absent."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(200):  # another process may have created it and be writing it now
            text = path.read_text(encoding="ascii").strip()
            if text:
                return text
            time.sleep(0.01)
        raise StorageError(
            f"the PII key file {path} is empty; restore it from your backup or set {KEY_ENV}",
            code="storage.invalid_key",
        ) from None
    key = new_key()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
