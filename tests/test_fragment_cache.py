"""The per-process fragments cache (accounts/fragment_cache.py) keeps rendered strings as
they are — the same string comes back, bounded and timed out as Django's local-memory
cache — and refuses anything else, which it could not keep safely without copying."""

import pytest
from django.core.cache import caches
from django.utils.safestring import SafeString, mark_safe


def test_a_kept_fragment_comes_back_as_it_was_kept():
    cache = caches["fragments"]
    fragment = mark_safe("<p>kept</p>")
    cache.set("template.cache.x.0123", fragment, 60)
    got = cache.get("template.cache.x.0123")
    assert got is fragment
    assert isinstance(got, SafeString), "still marked safe: the template does not escape it"
    assert cache.get("template.cache.missing") is None
    assert cache.add("template.cache.x.0123", "other", 60) is False
    assert cache.get("template.cache.x.0123") == "<p>kept</p>"


def test_an_expired_fragment_is_gone(time_machine):
    import datetime as dt

    time_machine.move_to(dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC), tick=False)
    cache = caches["fragments"]
    cache.set("template.cache.y.0123", "soon gone", 10)
    time_machine.shift(11)
    assert cache.get("template.cache.y.0123") is None


def test_only_rendered_strings_are_kept():
    cache = caches["fragments"]
    with pytest.raises(TypeError):
        cache.set("template.cache.z.0123", ["a", "list"], 60)
    with pytest.raises(TypeError):
        cache.add("template.cache.z.0123", {"a": "dict"}, 60)
    with pytest.raises(TypeError):
        cache.incr("template.cache.z.0123")


def test_it_stays_bounded():
    cache = caches["fragments"]
    for number in range(cache._max_entries + 50):
        cache.set(f"template.cache.n.{number}", "x", 60)
    assert len(cache._cache) <= cache._max_entries
