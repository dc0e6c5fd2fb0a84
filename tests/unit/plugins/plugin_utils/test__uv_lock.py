# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_uv_lock: a real uv.lock (made by the real uv 0.13.8 and 0.5.11 against a loopback index of real
wheels, tests/utils/lockapp.py) planned for an x86_64, an aarch64 and an i686 host."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
from packaging.tags import Tag

from ansible_collections.pyfleet.uv.plugins.plugin_utils import _uv_lock
from ansible_collections.pyfleet.uv.plugins.plugin_utils._uv_lock import (LockError, TargetError, host_target, load_lock,
                                                                          needed_packages, plan)

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror, real_uv  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import lockapp  # noqa: E402  pylint: disable=wrong-import-position
import venvindex  # noqa: E402  pylint: disable=wrong-import-position

X86 = {"python": {"version": "3.11.9", "implementation": "cpython"}, "arch": "x86_64",
       "libc": {"family": "glibc", "version": "2.36", "detected_by": "confstr"}}
ARM = {"python": {"version": "3.9.2"}, "arch": "aarch64", "libc": {"family": "glibc", "version": "2.28"}}
I686 = {"python": {"version": "3.9.2"}, "arch": "i686", "libc": {"family": "glibc", "version": "2.31"}}
PURE = ["attrs-24.2.0-py3-none-any.whl", "fleetlib-1.0-py3-none-any.whl", "jinja2-3.1.4-py3-none-any.whl",
        "python_dateutil-2.9.0.post0-py2.py3-none-any.whl", "six-1.16.0-py2.py3-none-any.whl"]
OLD_PYTHON = ["importlib_metadata-8.5.0-py3-none-any.whl", "tomli-2.0.2-py3-none-any.whl", "zipp-3.20.2-py3-none-any.whl"]
MARKUPSAFE = {
    "x86": "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "arm": "MarkupSafe-2.1.5-cp39-cp39-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    "i686": "MarkupSafe-2.1.5-cp39-cp39-manylinux_2_5_i686.manylinux1_i686.manylinux_2_17_i686.manylinux2014_i686.whl",
}


def tags(strings):
    return [Tag(*s.split("-")) for s in strings]


# -- host_target: the marker environment and the tag order ---------------------------------------

@pytest.mark.parametrize("facts, accepted, refused", [
    pytest.param({"python": {"version": "3.6.8"}, "arch": "x86_64", "libc": {"family": "glibc", "version": "2.28"}},
                 ["cp36-cp36m-manylinux_2_28_x86_64", "cp36-cp36m-manylinux2014_x86_64", "cp36-abi3-manylinux1_x86_64",
                  "py3-none-any"],
                 ["cp36-cp36m-manylinux_2_34_x86_64", "cp36-cp36m-manylinux_2_29_x86_64", "cp36-cp36m-linux_x86_64",
                  "cp39-cp39-manylinux_2_17_x86_64", "cp37-abi3-manylinux_2_17_x86_64", "cp36-cp36m-musllinux_1_1_x86_64"],
                 id="rhel8-x86_64-glibc-2.28"),
    pytest.param(ARM, ["cp39-cp39-manylinux_2_28_aarch64", "cp39-abi3-manylinux2014_aarch64", "cp36-abi3-manylinux_2_17_aarch64"],
                 ["cp39-cp39-manylinux_2_34_aarch64", "cp39-cp39-manylinux2010_aarch64", "cp39-cp39-manylinux_2_16_aarch64",
                  "cp39-cp39-manylinux_2_17_x86_64", "cp39-cp39-linux_aarch64"],
                 id="aarch64-2.28"),
    pytest.param({"python": "3.12.1", "machine": "arm64", "libc": {"family": "musl", "version": "1.2.4"}},
                 ["cp312-cp312-musllinux_1_2_aarch64", "cp312-cp312-musllinux_1_0_aarch64", "py3-none-any"],
                 ["cp312-cp312-musllinux_1_3_aarch64", "cp312-cp312-manylinux_2_17_aarch64"],
                 id="alpine-arm64-musl-1.2.4"),
    pytest.param(I686, ["cp39-cp39-manylinux1_i686", "cp39-cp39-manylinux2010_i686", "cp39-none-manylinux_2_31_i686"],
                 ["cp39-cp39-manylinux_2_32_i686", "cp39-cp39-linux_i686", "cp39-cp39-manylinux1_x86_64"],
                 id="i686-2.31"),
])
def test_host_target_tags(facts, accepted, refused):
    target = host_target(facts)
    for tag in tags(accepted):
        assert tag in target.rank, tag
    for tag in tags(refused):
        assert tag not in target.rank, tag


def test_host_target_order_and_markers():
    target = host_target(X86)
    ranks = [target.rank[t] for t in tags(["cp311-cp311-manylinux_2_36_x86_64", "cp311-cp311-manylinux_2_17_x86_64",
                                           "cp311-cp311-manylinux1_x86_64", "cp311-abi3-manylinux_2_36_x86_64",
                                           "cp39-abi3-manylinux_2_34_x86_64", "py3-none-manylinux_2_17_x86_64",
                                           "py3-none-any"])]
    assert ranks == sorted(ranks)
    assert target.markers == {
        "implementation_name": "cpython", "implementation_version": "3.11.9", "os_name": "posix",
        "platform_machine": "x86_64", "platform_python_implementation": "CPython", "platform_release": "",
        "platform_system": "Linux", "platform_version": "", "python_full_version": "3.11.9", "python_version": "3.11",
        "sys_platform": "linux"}
    # The legacy names sit right after the version they stand for, as packaging orders them.
    assert target.platforms[target.platforms.index("manylinux_2_17_x86_64") + 1] == "manylinux2014_x86_64"
    assert target.platforms[-2:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64"]


@pytest.mark.parametrize("facts, message", [
    ({"python": {"version": "3.11.2"}, "arch": "sparc64", "libc": {"family": "glibc", "version": "2.36"}},
     "architecture 'sparc64' is not one"),
    ({"python": {"version": "3.11.2"}, "arch": "x86_64", "libc": {"family": None, "version": None}},
     "C library is unknown"),
    ({"python": {"version": "3.10.13", "implementation": "pypy"}, "arch": "x86_64",
      "libc": {"family": "glibc", "version": "2.36"}}, "CPython only; the host runs pypy"),
    ({"arch": "x86_64", "libc": {"family": "glibc", "version": "2.36"}}, "Python version '' is not 3.X"),
    ({"python": "3.11", "arch": "x86_64", "libc": {"family": "glibc", "version": "two"}}, "libc version 'two'"),
])
def test_host_target_refuses(facts, message):
    with pytest.raises(TargetError, match=message):
        host_target(facts)


# -- load_lock: versions and the TOML reader -------------------------------------------------------

def test_load_lock_refuses_a_newer_lock_version():
    with pytest.raises(LockError) as caught:
        load_lock('version = 2\nrevision = 0\nrequires-python = ">=3.9"\n')
    assert "uv.lock has version = 2; this collection reads lock version 1" in caught.value.msg
    assert "uv lock" in caught.value.msg
    with pytest.raises(LockError, match="uv.lock has no version key"):
        load_lock('requires-python = ">=3.9"\n')
    with pytest.raises(LockError, match="not valid TOML"):
        load_lock('version = 1\n[[package]\n')


def _wheel(requirement):
    return venvindex.fetch((requirement,))[0]


def test_reader_falls_back_to_tomli_then_says_what_to_install(monkeypatch):
    text = 'version = 1\nrevision = 2\n[[package]]\nname = "six"\nversion = "1.16.0"\n'
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10: no tomllib
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(LockError) as caught:
        load_lock(text)
    assert "needs Python 3.11 or later (tomllib), or the package 'tomli'" in caught.value.msg
    assert "runs Python %d.%d.%d without tomli" % sys.version_info[:3] in caught.value.msg
    assert "pip install tomli" in caught.value.msg
    monkeypatch.delitem(sys.modules, "tomli")
    monkeypatch.syspath_prepend(_wheel("tomli==2.0.2"))  # a pure wheel imports from its zip
    assert _uv_lock.toml_reader()[1] == "tomli"
    lock = load_lock(text)
    assert lock.revision == 2 and lock.named("SIX")[0]["version"] == "1.16.0"


def _python310():
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10.*/bin/python3.10")))
    return found[-1] if found else None


# -- the real lock -----------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["0.13.8", "0.5.11"])
def app(request, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("lockapp"))
    uv = real_uv(request.param, os.path.join(tmp, "uvs"))
    if uv is None:
        pytest.skip("uv %s is not in the mirror" % request.param)
    made = lockapp.app(tmp, uv)
    yield made
    made.index.stop()


@pytest.fixture
def fleet():
    return {"x86": host_target(X86), "arm": host_target(ARM), "i686": host_target(I686)}


@needs_mirror
def test_plan_for_the_fleet(app, fleet):
    lock = load_lock(app.lock_text)
    got = plan(lock, fleet)
    assert got["missing_wheels"] == []
    assert got["hosts"] == {
        "x86": sorted(PURE + [MARKUPSAFE["x86"]]),  # Python 3.11: neither importlib-metadata nor tomli
        "arm": sorted(PURE + OLD_PYTHON + [MARKUPSAFE["arm"]]),
        "i686": sorted(PURE + OLD_PYTHON + [MARKUPSAFE["i686"]]),
    }
    # One entry per distinct file: the pure wheels are shared by the three hosts.
    assert sorted(got["files"]) == sorted(set(PURE + OLD_PYTHON + list(MARKUPSAFE.values())))
    entry = got["files"][MARKUPSAFE["arm"]]
    path = os.path.join(os.path.dirname(lockapp.real_wheels()[0]), MARKUPSAFE["arm"])
    assert entry["sha256"] == lockapp.sha256_of(path) and entry["size"] == os.path.getsize(path)
    assert entry["url"] == app.index.url.replace("/simple/", "/files/") + MARKUPSAFE["arm"]
    assert entry["index"] == app.index.url and entry["name"] == "markupsafe" and entry["version"] == "2.1.5"
    assert got["packages"]["x86"] == {"attrs": "24.2.0", "fleetlib": "1.0", "jinja2": "3.1.4", "markupsafe": "2.1.5",
                                      "python-dateutil": "2.9.0.post0", "six": "1.16.0"}
    assert "winonly" not in json.dumps(got)  # sys_platform == 'win32' holds on no host
    assert app.index.requests == []  # planning is pure


@needs_mirror
def test_plan_groups_and_extras(app, fleet):
    lock = load_lock(app.lock_text)
    got = plan(lock, fleet, no_dev=False, groups=["docs"], extras=["yaml"])
    assert "iniconfig-2.0.0-py3-none-any.whl" in got["hosts"]["arm"] and "tabulate-0.9.0-py3-none-any.whl" in got["hosts"]["x86"]
    assert "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" in got["hosts"]["x86"]
    assert "PyYAML-6.0.2-cp39-cp39-manylinux_2_17_aarch64.manylinux2014_aarch64.whl" in got["hosts"]["arm"]
    assert got["missing_wheels"] == [{"name": "pyyaml", "version": "6.0.2", "hosts": ["i686"],
                                      "reason": "no wheel for i686 glibc: uv.lock has wheels for aarch64, x86_64"}]
    # The dev group is left out by default, and attrs comes only through fleetlib[speed].
    default = needed_packages(lock, fleet["x86"])
    assert "iniconfig" not in [p.name for p in default] and ("attrs", "24.2.0", "registry") in default
    with pytest.raises(LockError, match="defines no extra nope; it defines: fast, legacy, yaml"):
        needed_packages(lock, fleet["x86"], extras=["nope"])
    with pytest.raises(LockError, match="defines no dependency group tests; it defines: dev, docs"):
        needed_packages(lock, fleet["x86"], groups=["tests"])


@needs_mirror
def test_default_groups_as_the_hosts_uv_reads_them(app):
    """uv.lock does not record [tool.uv] default-groups: the controller reads them from pyproject.toml, so
    that no_dev=false plans what the host's uv installs (dev, or the project's default groups)."""
    lock = load_lock(app.lock_text)
    assert _uv_lock.default_groups(lock, '[project]\nname = "x"\n') == ["dev"]
    assert _uv_lock.default_groups(lock, '[tool.uv]\ndefault-groups = ["docs"]\n') == ["docs"]
    assert _uv_lock.default_groups(lock, '[tool.uv]\ndefault-groups = "all"\n') == ["dev", "docs"]
    assert _uv_lock.default_groups(lock, '[tool.uv]\ndefault-groups = ["Docs", "gone"]\n') == ["docs"]
    with pytest.raises(LockError, match="default-groups in pyproject.toml is 3"):
        _uv_lock.default_groups(lock, "[tool.uv]\ndefault-groups = 3\n")
    with pytest.raises(LockError, match="not valid TOML"):
        _uv_lock.default_groups(lock, "[tool.uv\n")


@needs_mirror
def test_plan_missing_wheels(app, fleet):
    lock = load_lock(app.lock_text)
    got = plan(lock, fleet, extras=["fast", "legacy"])
    assert got["missing_wheels"] == [
        {"name": "fastpath", "version": "1.0", "hosts": ["arm"],
         "reason": "manylinux too new: its aarch64 wheels need glibc 2.34 or later, the host has 2.28"},
        {"name": "fastpath", "version": "1.0", "hosts": ["i686"],
         "reason": "no wheel for i686 glibc: uv.lock has wheels for aarch64, x86_64"},
        {"name": "oldlib", "version": "1.0", "hosts": ["arm", "i686", "x86"],
         "reason": "sdist only: uv.lock has no wheel (the hosts install with --no-build)"},
    ]
    # glibc 2.36 takes the manylinux_2_34 wheel (abi3 from cp39 on CPython 3.11).
    assert "fastpath-1.0-cp39-abi3-manylinux_2_34_x86_64.whl" in got["hosts"]["x86"]
    rhel8 = host_target(dict(X86, libc={"family": "glibc", "version": "2.28"}))
    assert plan(lock, {"rhel8": rhel8}, extras=["fast"])["missing_wheels"] == [
        {"name": "fastpath", "version": "1.0", "hosts": ["rhel8"],
         "reason": "manylinux too new: its x86_64 wheels need glibc 2.34 or later, the host has 2.28"}]
    py38 = host_target(dict(ARM, python={"version": "3.8.10"}))
    reasons = [m["reason"] for m in plan(lock, {"old": py38})["missing_wheels"]]
    assert "no wheel for CPython 3.8.10 on aarch64 glibc 2.28 (cp38): its aarch64 wheels are for cp39-cp39" in reasons


@needs_mirror
def test_lock_entries_without_hash_or_wheel_source(app, fleet):
    text = app.lock_text
    six = [line for line in text.splitlines() if "six-1.16.0-py2.py3-none-any.whl" in line][0]
    unhashed = text.replace(six, '    { url = "%s" },' % six.split('"')[1])
    got = plan(load_lock(unhashed), {"x86": fleet["x86"]})
    assert got["missing_wheels"][0]["name"] == "six"
    assert got["missing_wheels"][0]["reason"].startswith("uv.lock records no sha256 for six-1.16.0-py2.py3-none-any.whl")
    git = text.replace('name = "six"\nversion = "1.16.0"\nsource = { registry = "%s" }' % app.index.url,
                       'name = "six"\nversion = "1.16.0"\nsource = { git = "https://git.example.com/six?rev=1#abc" }')
    assert git != text
    missing = plan(load_lock(git), {"x86": fleet["x86"]})["missing_wheels"]
    assert missing == [{"name": "six", "version": "1.16.0", "hosts": ["x86"],
                        "reason": "a git source: no wheel to download, and the hosts install with --no-build"}]


@needs_mirror
def test_workspace_members_come_from_the_project(app, fleet, tmp_path):
    root = lockapp.write_workspace(str(tmp_path / "ws"))
    lock = load_lock(lockapp.lock(app.uv, root, app.index.url, str(tmp_path / "home")))
    assert lock.members() == ["wsapp", "wslib"]
    assert [p["name"] for p in lock.roots()] == ["wsapp"]
    # Both are editable: built from the project on the host, never downloaded.
    assert needed_packages(lock, fleet["arm"]) == [("iniconfig", "2.0.0", "registry"), ("six", "1.16.0", "registry")]
    assert needed_packages(lock, fleet["arm"], roots=["wslib"]) == [("six", "1.16.0", "registry")]
    with pytest.raises(LockError, match="uv.lock has no workspace member 'nope'; its members are: wsapp, wslib"):
        needed_packages(lock, fleet["arm"], roots=["nope"])


@needs_mirror
def test_python_310_controller_reads_the_lock_with_tomli_or_says_what_to_install(app, tmp_path):
    """A real Python 3.10 (no tomllib), as ansible-core 2.16 controllers may run."""
    python = _python310()
    if python is None:
        pytest.skip("no Python 3.10 here")
    lock_path = tmp_path / "uv.lock"
    lock_path.write_text(app.lock_text)
    tree = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", "..", "..", ".."))
    script = (
        "import json, sys\n"
        "from ansible_collections.pyfleet.uv.plugins.plugin_utils import _uv_lock as L\n"
        "try:\n"
        "    lock = L.load_lock(open(sys.argv[1]).read())\n"
        "except L.LockError as exc:\n"
        "    print(json.dumps({'error': exc.msg})); sys.exit(0)\n"
        "target = L.host_target(json.loads(sys.argv[2]))\n"
        "print(json.dumps({'reader': L.toml_reader()[1], 'hosts': L.plan(lock, {'arm': target})['hosts']}))\n")
    packaging_wheel = _wheel("packaging==24.2")
    for extra, expected in (([], "error"), ([_wheel("tomli==2.0.2")], "tomli")):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tree, packaging_wheel] + extra), PYTHONNOUSERSITE="1")
        out = subprocess.run([python, "-s", "-c", script, str(lock_path), json.dumps(ARM)],
                             env=env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout)
        if expected == "error":
            assert "runs Python 3.10." in result["error"] and "pip install tomli" in result["error"], result
        else:
            assert result["reader"] == "tomli"
            assert result["hosts"]["arm"] == sorted(PURE + OLD_PYTHON + [MARKUPSAFE["arm"]])


@needs_mirror
def test_a_lock_forked_by_markers(app, tmp_path):
    """Two versions of six, one per Python range: uv names the version in each dependency entry."""
    newer = venvindex.fetch(("six==1.17.0",))[0]
    app.index.files[os.path.basename(newer)] = newer
    try:
        root = lockapp.write_app(str(tmp_path / "fork"))
        with open(os.path.join(root, "pyproject.toml"), "w") as handle:
            handle.write('[project]\nname = "fork"\nversion = "1"\nrequires-python = ">=3.9"\ndependencies = [\n'
                         '    "six==1.16.0; python_version < \'3.10\'",\n    "six==1.17.0; python_version >= \'3.10\'",\n]\n')
        lock = load_lock(lockapp.lock(app.uv, root, app.index.url, str(tmp_path / "home")))
    finally:
        del app.index.files[os.path.basename(newer)]
    assert sorted(p["version"] for p in lock.named("six")) == ["1.16.0", "1.17.0"]
    assert needed_packages(lock, host_target(ARM)) == [("six", "1.16.0", "registry")]
    assert needed_packages(lock, host_target(X86)) == [("six", "1.17.0", "registry")]
