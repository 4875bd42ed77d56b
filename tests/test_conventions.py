"""House rules a reader cannot see at a glance, checked over the whole source tree."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "audience", "remote_access", "config", "health", "outbox"]


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _eager_gettext_names(tree: ast.Module) -> set[str]:
    """Names bound to the eager gettext functions by this module's imports."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in {"gettext", "ngettext", "pgettext"}:
                    names.add(alias.asname or alias.name)
    return names


def _calls_at_import_time(tree: ast.Module):
    """Calls evaluated when the module is imported: module and class bodies, not functions."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.ClassDef):
            pending.extend(node.body)
            pending.extend(node.decorator_list)
            continue
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                yield child
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                pending.append(child)


def test_no_eager_translation_at_import_time():
    """Text translated when a module is imported is frozen in the language of whoever
    imported it first; constants use gettext_lazy."""
    found = []
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        eager = _eager_gettext_names(tree)
        for call in _calls_at_import_time(tree):
            if isinstance(call.func, ast.Name) and call.func.id in eager:
                found.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert found == []


def test_instants_in_templates_are_written_by_moment():
    """A date with a time of day is an instant: templates write it with the `moment` filter
    (accounts.timefmt), in the account's zone, never with an ad-hoc `date` format."""
    import re

    ad_hoc = re.compile(r'\|date:"[^"]*[jd][^"]*[HG]:i[^"]*"')
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        + sorted((ROOT / "templates").rglob("*.txt"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ad_hoc.search(line)
    ]
    assert found == []


def test_kept_fragments_vary_by_language_and_live_in_the_process():
    """Every `{% cache %}` in the templates is kept in the per-process "fragments" cache
    (never Redis: nothing to fail, no round trip) and names the language among its keys, so
    that nobody is served a fragment rendered in another language. What else the fragment
    shows must be in its key too; each has a test next to its feature."""
    import re

    tag = re.compile(r"{%\s*cache\s+([^%]*)%}")
    found = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for match in tag.finditer(path.read_text()):
            found[f"{path.relative_to(ROOT)}: {match.group(1).split()[1]}"] = match.group(1)
    assert found, "the convention has fragments to check"
    wrong = [
        where
        for where, arguments in found.items()
        if 'using="fragments"' not in arguments or " language " not in f" {arguments} "
    ]
    assert wrong == []


def test_forms_in_kept_fragments_use_the_kept_token():
    """A `{% csrf_token %}` inside a kept fragment, or in a template the fragment includes,
    would be rendered once and served to others: forms there write `{% kept_csrf_token %}`,
    which each page fills in with its own token (accounts/kept_forms.py)."""
    import re

    templates = ROOT / "templates"
    block = re.compile(r"{%\s*cache\s[^%]*%}(.*?){%\s*endcache\s*%}", re.S)
    include = re.compile(r"""{%\s*include\s+["']([^"']+)["']""")

    def text_with_includes(text: str, seen: frozenset = frozenset()) -> str:
        parts = [text]
        for name in include.findall(text):
            path = templates / name
            if name not in seen and path.exists():
                parts.append(text_with_includes(path.read_text(), seen | {name}))
        return "\n".join(parts)

    fragments = {
        f"{path.relative_to(ROOT)} #{number}": text_with_includes(body)
        for path in sorted(templates.rglob("*.html"))
        for number, body in enumerate(block.findall(path.read_text()), 1)
    }
    assert any("kept_csrf_token" in text for text in fragments.values()), "forms are kept"
    frozen = [where for where, text in fragments.items() if re.search(r"{%\s*csrf_token", text)]
    assert frozen == []
