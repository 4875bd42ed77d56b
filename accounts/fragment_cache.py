"""The per-process cache of rendered fragments (CACHES["fragments"]): Django's local-memory
cache without what a shared cache needs.

A page asks it for three to six fragments; Django's LocMemCache pickles every value and
checks every key character by character for memcached's sake, which cost the Security tab
about a quarter of its template time (docs/performance.md). Here values are the rendered
strings themselves — immutable, so nothing can change one after it is kept — and keys are
the cache tag's own (a name and an md5 hash), which need no checking. Everything else —
the LRU bound, timeouts, the lock — is Django's.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache


class FragmentCache(LocMemCache):
    def make_and_validate_key(self, key, version=None):
        return self.make_key(key, version=version)

    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            value = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            self._set(key, _rendered(value), timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, _rendered(value), timeout)
                return True
            return False

    def incr(self, key, delta=1, version=None):
        raise TypeError("the fragments cache keeps rendered strings only")


def _rendered(value):
    if not isinstance(value, str):
        raise TypeError("the fragments cache keeps rendered strings only")
    return value
