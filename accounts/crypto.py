"""Secrets at rest. Encryption for secrets that must be shown again (integration keys; the
key comes from FIELD_ENCRYPTION_KEYS, newest first: MultiFernet still reads the old ones), and
hashing for those that never are (invitation tokens, private API keys)."""

import hashlib
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def token_hash(token: str) -> str:
    """How a bearer token is stored and looked up: SHA-256. The tokens are long random
    strings, so a fast hash without salt is enough (no guessing a 256-bit secret)."""
    return hashlib.sha256(token.encode()).hexdigest()
