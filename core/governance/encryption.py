"""Encryption at rest: Fernet (AES-128-CBC + HMAC-SHA256) with key rotation.

``NEXUS_ENCRYPTION_KEYS`` is a comma list of Fernet keys. The first one encrypts;
every one of them decrypts (:class:`cryptography.fernet.MultiFernet`), so rotation is:
put a new key first, run ``nexus admin encryption rotate`` (re-encrypts every blob and
token under the new key), then drop the old key.

Ciphertext starts with :data:`MAGIC`, so bytes written before encryption was turned on
are recognised as plaintext and still read (and ``rotate`` encrypts them), while
ciphertext read without a key fails loudly instead of being served as garbage.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import ConfigurationError, StorageError
from core.settings import Settings

MAGIC = b"NXENC1:"
"""Prefix of every ciphertext Nexus writes (version 1: Fernet token follows)."""


def is_encrypted(data: bytes) -> bool:
    return data.startswith(MAGIC)


class SecretBox:
    """Encrypts and decrypts bytes with the configured keys (first key encrypts)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("SecretBox needs at least one key")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise ConfigurationError(
                "NEXUS_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 bytes each)"
            ) from exc
        self.key_count = len(keys)

    def encrypt(self, data: bytes) -> bytes:
        return MAGIC + self._fernet.encrypt(data)

    def decrypt(self, data: bytes) -> bytes:
        """Plaintext of ``data``; bytes written before encryption was on pass through."""
        if not is_encrypted(data):
            return data
        try:
            return self._fernet.decrypt(data[len(MAGIC) :])
        except InvalidToken as exc:
            raise StorageError(
                "encrypted data does not open with any configured key "
                "(NEXUS_ENCRYPTION_KEYS lacks the key it was written with)"
            ) from exc

    def rotate(self, data: bytes) -> bytes:
        """``data`` re-encrypted under the first key (plaintext gets encrypted)."""
        if not is_encrypted(data):
            return self.encrypt(data)
        try:
            return MAGIC + self._fernet.rotate(data[len(MAGIC) :])
        except InvalidToken as exc:
            raise StorageError("cannot rotate: no configured key opens this data") from exc


def open_without_key(data: bytes) -> bytes:
    """What a store without keys does with stored bytes: plaintext, or a clear error."""
    if is_encrypted(data):
        raise StorageError("this data is encrypted at rest but NEXUS_ENCRYPTION_KEYS is not set")
    return data


def secret_box(settings: Settings) -> SecretBox | None:
    """The box for ``NEXUS_ENCRYPTION_KEYS``, or ``None`` when encryption is off."""
    raw = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    return SecretBox(keys) if keys else None


def encryption_status(box: SecretBox | None) -> str:
    """The ``/readyz`` and startup line: encryption is never silently off."""
    if box is None:
        return "encryption: OFF (NEXUS_ENCRYPTION_KEYS not set; data stored in plaintext)"
    return f"encryption: on ({box.key_count} key{'s' if box.key_count > 1 else ''})"
