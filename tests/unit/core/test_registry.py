"""tokcom.registry.Registry: registration, lookup, errors, lazy module loading; the built-in instances."""

from __future__ import annotations

import sys
import types

import pytest

from tokcom.errors import InputError, UnknownNameError
from tokcom.registry import LINKS, METRICS, SCHEMES, Registry


def test_register_and_get_case_insensitive():
    r: Registry = Registry("widget")

    @r.register("Alpha")
    class A:
        """First line of the doc.

        More text."""

    @r.register("beta", description="explicit")
    def b():
        pass

    assert r.get("alpha") is A and r.get("ALPHA") is A and r.get("Alpha") is A
    assert r.get("BeTa") is b
    assert "alpha" in r and "ALPHA" in r and "gamma" not in r
    assert r.list() == ["alpha", "beta"]
    entries = {e.name: e for e in r.entries()}
    assert entries["alpha"].description == "First line of the doc."
    assert entries["beta"].description == "explicit"
    assert [e.name for e in r.entries()] == ["alpha", "beta"]


def test_register_returns_object_and_same_object_twice_ok():
    r: Registry = Registry("widget")

    def f():
        pass

    assert r.register("f")(f) is f
    assert r.register("F")(f) is f  # idempotent re-registration of the very same object
    assert r.list() == ["f"]


def test_duplicate_name_rejected():
    r: Registry = Registry("widget")
    r.register("thing")(object())
    with pytest.raises(ValueError, match="thing"):
        r.register("thing")(object())
    with pytest.raises(ValueError):
        r.register("THING")(object())  # case-insensitive duplicate


def test_unknown_name_lists_valid_names():
    r: Registry = Registry("widget")
    for n in ("zeta", "alpha", "Mid"):
        r.register(n)(lambda: None)
    with pytest.raises(UnknownNameError) as e:
        r.get("nope")
    msg = str(e.value)
    assert "widget" in msg and "'nope'" in msg and "alpha, mid, zeta" in msg
    assert "\n" not in msg and not msg.startswith(("'", '"'))  # not KeyError's quoting
    assert isinstance(e.value, InputError) and isinstance(e.value, KeyError)
    empty: Registry = Registry("gadget")
    with pytest.raises(UnknownNameError, match="none"):
        empty.get("x")


def test_list_sorted():
    r: Registry = Registry("widget")
    names = ["delta", "Alpha", "charlie", "bravo", "echo10", "echo2"]
    for n in names:
        r.register(n)(object())
    assert r.list() == sorted(n.lower() for n in names)


@pytest.fixture
def lazy_modules(tmp_path, monkeypatch):
    """A holder module with a fresh Registry and, on a temporary path, a module registering into it."""
    holder = types.ModuleType("tokcom_test_holder")
    holder.REG = Registry("thing", ["tokcom_test_lazy_mod"])
    holder.IMPORTS = 0
    monkeypatch.setitem(sys.modules, "tokcom_test_holder", holder)
    (tmp_path / "tokcom_test_lazy_mod.py").write_text(
        "import tokcom_test_holder as h\n"
        "h.IMPORTS += 1\n"
        "@h.REG.register('Lazy')\n"
        "class Lazy:\n"
        "    '''Registered on import.'''\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tokcom_test_lazy_mod", raising=False)
    yield holder
    sys.modules.pop("tokcom_test_lazy_mod", None)


@pytest.mark.parametrize("query", ["list", "get", "contains", "entries"])
def test_lazy_loading_on_first_query(lazy_modules, query):
    h = lazy_modules
    assert "tokcom_test_lazy_mod" not in sys.modules and h.IMPORTS == 0
    if query == "list":
        assert h.REG.list() == ["lazy"]
    elif query == "get":
        assert h.REG.get("LAZY").__name__ == "Lazy"
    elif query == "contains":
        assert "lazy" in h.REG
    else:
        assert [e.description for e in h.REG.entries()] == ["Registered on import."]
    assert "tokcom_test_lazy_mod" in sys.modules and h.IMPORTS == 1
    h.REG.list()
    h.REG.get("lazy")
    assert h.IMPORTS == 1  # imported once


def test_registration_before_query_does_not_trigger_import(lazy_modules):
    h = lazy_modules
    h.REG.register("early")(object())
    assert "tokcom_test_lazy_mod" not in sys.modules
    assert h.REG.list() == ["early", "lazy"]


def test_missing_module_raises_import_error():
    r: Registry = Registry("thing", ["tokcom_no_such_module_xyz"])
    with pytest.raises(ImportError):
        r.list()


def test_builtin_registries():
    assert {"h264", "h265"} <= set(SCHEMES.list())
    assert "erasure" in LINKS.list()
    assert SCHEMES.kind == "scheme" and LINKS.kind == "channel" and METRICS.kind == "metric"
    with pytest.raises(UnknownNameError, match="h265"):
        SCHEMES.get("h266")
