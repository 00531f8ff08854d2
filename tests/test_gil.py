"""The GIL watch: a GIL turned back on mid-session is warned about, named, and recorded."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import read_results

from pytest_concur._measuring.environment import free_threaded_build
from pytest_concur._measuring.gil import (
    GilChange,
    GilWatch,
    could_enable_gil,
    enabled_before_session,
    is_extension,
)


def extension(name: str) -> ModuleType:
    module = ModuleType(name)
    module.__file__ = f"/site-packages/{name}{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    return module


class FakeProcess:
    """A GIL switch and a module table the tests control."""

    def __init__(self) -> None:
        self.gil = False
        self.modules: dict[str, object] = {"sys": ModuleType("sys")}

    def probe(self) -> bool:
        return self.gil

    def table(self) -> dict[str, object]:
        return dict(self.modules)


@pytest.fixture
def process() -> FakeProcess:
    return FakeProcess()


def test_no_change_no_report(process: FakeProcess) -> None:
    watch = GilWatch(probe=process.probe, modules=process.table)
    process.modules["json"] = ModuleType("json")
    assert watch.check("round 0") is None
    assert not watch.enabled


def test_names_the_one_extension_imported_since_the_last_check(process: FakeProcess) -> None:
    watch = GilWatch(probe=process.probe, modules=process.table)
    process.modules["numpy"] = extension("numpy")  # declares support: GIL stays off
    assert watch.check("round 0 of t") is None
    process.modules["legacy"] = extension("legacy")
    process.modules["helper"] = ModuleType("helper")  # pure Python: cannot enable the GIL
    process.gil = True
    change = watch.check("round 1 of t")
    assert change == GilChange(enabled=True, where="round 1 of t", suspects=("legacy",))
    assert "during round 1 of t: importing 'legacy' did it" in change.message()
    assert "PYTHON_GIL=0" in change.message()
    assert watch.enabled
    assert watch.check("round 2 of t") is None  # said once


def test_several_suspects_are_all_named(process: FakeProcess) -> None:
    watch = GilWatch(probe=process.probe, modules=process.table)
    process.modules.update(b_ext=extension("b_ext"), a_ext=extension("a_ext"))
    process.gil = True
    change = watch.check("collection")
    assert change is not None
    assert change.suspects == ("a_ext", "b_ext")
    assert "one of these extension modules, imported then, did it: 'a_ext', 'b_ext'" in (
        change.message()
    )


def test_no_suspect_still_warns(process: FakeProcess) -> None:
    watch = GilWatch(probe=process.probe, modules=process.table)
    process.gil = True
    change = watch.check("the setup of t")
    assert change is not None
    assert change.suspects == ()
    assert "an import that failed may have done it" in change.message()


def test_a_gil_build_keeps_no_module_table() -> None:
    calls: list[int] = []

    def table() -> dict[str, object]:
        calls.append(1)
        return {}

    watch = GilWatch(probe=lambda: True, modules=table)
    for index in range(3):
        assert watch.check(f"round {index}") is None
    assert calls == []  # nothing copied per round where the GIL cannot come back on


def test_is_extension() -> None:
    assert is_extension(extension("fast"))
    assert not is_extension(ModuleType("plain"))
    assert not is_extension(os)


def test_the_standard_librarys_own_extensions_are_never_suspects(process: FakeProcess) -> None:
    # CPython's lib-dynload modules declare free-threading support: one the plugin loads
    # late (spans.py imports _interpreters) must not stand beside the real culprit
    import sysconfig

    own = ModuleType("_interpreters")
    own.__file__ = str(
        Path(sysconfig.get_path("platstdlib", vars={"platbase": sys.base_exec_prefix,
                                                    "installed_platbase": sys.base_exec_prefix}),
             "lib-dynload",
             f"_interpreters{importlib.machinery.EXTENSION_SUFFIXES[0]}")
    )  # fmt: skip
    assert is_extension(own)
    assert not could_enable_gil(own)
    assert could_enable_gil(extension("gilmod"))
    watch = GilWatch(probe=process.probe, modules=process.table)
    process.modules["_interpreters"] = own
    process.modules["gilmod"] = extension("gilmod")
    process.gil = True
    change = watch.check("t")
    assert change is not None
    assert change.suspects == ("gilmod",)


@pytest.mark.skipif(free_threaded_build(), reason="checks the answer on a GIL build")
def test_gil_builds_never_warn_at_start() -> None:
    assert enabled_before_session() is None


# -- end to end on a free-threaded interpreter -------------------------------------------------

NO_FREE_THREADING_EXTENSION = """
#include <Python.h>

/* single-phase init without PyUnstable_Module_SetGIL: free-threaded CPython turns the
   GIL on when this module is imported */
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "gilmod", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_gilmod(void) { return PyModule_Create(&def); }
"""

ROUNDS = """
import pytest

calls = []

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=3, warmup=0)
def test_imports(concur):
    calls.append(1)
    if len(calls) == 2:
        import gilmod  # the second round turns the GIL on
    concur.map(abs, [1, 2])
"""

AT_IMPORT = """
import pytest
import gilmod  # imported while the test module is collected

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_imports(concur):
    concur.map(abs, [1, 2])
"""

PLAIN_TEST_FIRST = """
import pytest

def test_a_plain():
    import gilmod  # a test that measures nothing turns the GIL on

@pytest.mark.concur(workload="cpu", models=["serial"], rounds=2, warmup=0)
def test_b_measured(concur):
    concur.map(abs, [1, 2])
"""


def _free_threaded_python() -> str | None:
    named = os.environ.get("CONCUR_FT_PYTHON")
    if named:
        return named
    return sys.executable if free_threaded_build() else None


def _build_extension(python: str, folder: Path) -> None:
    query = "import sysconfig; print(sysconfig.get_path('include')); "
    query += "print(sysconfig.get_config_var('EXT_SUFFIX'))"
    include, suffix = subprocess.run(
        [python, "-c", query], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    source = folder / "gilmod.c"
    source.write_text(NO_FREE_THREADING_EXTENSION, encoding="utf-8")
    target = folder / f"gilmod{suffix}"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", f"-I{include}", str(source), "-o", str(target)],
        check=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    _free_threaded_python() is None or shutil.which("gcc") is None,
    reason="needs a free-threaded Python with pytest-concur (CONCUR_FT_PYTHON, or run the "
    "suite on one) and gcc",
)
@pytest.mark.parametrize(
    ("where", "files", "gil_by_round"),
    [
        ("round", {"test_exp": ROUNDS}, [False, True, True]),
        ("collection", {"test_exp": AT_IMPORT}, [True, True]),
        ("plain test", {"test_exp": PLAIN_TEST_FIRST}, [True, True]),
        ("conftest", {"test_exp": AT_IMPORT.replace("import gilmod", ""),
                      "conftest": "import gilmod\n"}, [True, True]),
    ],
)  # fmt: skip
def test_free_threaded_gil_turned_on_is_named_and_recorded(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    files: dict[str, str],
    gil_by_round: list[bool],
) -> None:
    python = _free_threaded_python()
    assert python is not None
    monkeypatch.delenv("PYTHON_GIL", raising=False)
    _build_extension(python, pytester.path)
    pytester.makepyfile(**files)
    result = pytester.run(python, "-m", "pytest", "-p", "no:cacheprovider", timeout=300)
    assert result.ret == 0, result.stdout.str()
    out = result.stdout.str()
    # CPython's own warning names the module too; ours says where it happened
    assert "GilStateWarning" in out
    if where == "round":
        said = "during round 1 of test_exp.py::test_imports[serial]: importing 'gilmod' did it"
        assert said in out
    elif where == "collection":
        assert "the GIL was enabled during collection" in out
        assert "'gilmod'" in out
    elif where == "plain test":
        assert "during test_exp.py::test_a_plain: importing 'gilmod' did it" in out
    else:
        assert "started the session with the GIL enabled" in out
    rows = read_results(pytester)
    assert rows["free_threaded"].all()
    assert list(rows.sort_values("round")["gil_enabled"]) == gil_by_round
