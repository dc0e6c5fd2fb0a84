# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tool environment read from its files: versions against ``packaging`` (the reference
implementation of PEP 440), markers, and the whole "is the request satisfied" answer."""

from __future__ import annotations

import itertools

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ansible_collections.pyfleet.uv.plugins.module_utils.environments import _uv_tool_installed as installed

INSTALLED = ["1.0", "1.0.0", "1.0.post1", "1.1", "1.2.3", "2.0", "0.9", "1!0.5", "2.9.0.post0", "3.3.5", "1.0-1"]
SPECS = ["==1.0", "==1.0.0", "!=1.0", "==1.*", "!=1.0.*", ">=1.0", ">1.0", ">1.0.post0", "<1.1", "<=1.0",
         "~=1.0", "~=1.0.0", "~=1.1", ">=1.0,<2", "<=3.4.0-dev0,>=3.3.4", "<1.1a1", ">1.0rc1", "==1.0.post1",
         ">=0.9.dev0", ">=1!0", "<2.9.0", ">2.9.0", ">=2.9.0.post0", "==2.9.*", "~=1.0.post1", "<1.0.post2"]


@pytest.mark.parametrize("version,spec", list(itertools.product(INSTALLED, SPECS)))
def test_versions_as_packaging_compares_them(version, spec):
    if spec == ">1.0rc1" and version in ("1.0.post1", "1.0-1"):
        assert installed.version_allows(version, spec) is None  # uv and packaging disagree here: uv decides
        return
    assert installed.version_allows(version, spec) is SpecifierSet(spec).contains(Version(version), prereleases=True)


@pytest.mark.parametrize("version,spec", [("1.0a1", ">=0.1"), ("1.0.dev0", "<2"), ("1.0+local", "==1.0"), ("1.0", "===1.0"),
                                          ("1.0", "==1.0a*"), ("1.0", "@x"), ("junk", ">=1")])
def test_what_it_does_not_compare_is_left_to_uv(version, spec):
    assert installed.version_allows(version, spec) is None


VALUES = dict(python_version="3.11", python_full_version="3.11.2", sys_platform="linux", os_name="posix",
              platform_system="Linux", platform_python_implementation="CPython", implementation_name="cpython",
              implementation_version="3.11.2")


@pytest.mark.parametrize("marker,extras,expected", [
    ('python_version < "3.11"', (), False),
    ("python_version >= '3.11'", (), True),
    ('python_full_version >= "3.11.3"', (), False),
    ('"3.10" < python_version', (), True),
    ('sys_platform == "win32"', (), False),
    ('sys_platform == "linux" and (python_version >= "3.12" or os_name == "posix")', (), True),
    ("extra == 'spelling'", (), False),
    ("extra == 'spelling'", ("spelling",), True),
    ('extra == "Spelling_X"', ("spelling-x",), True),
    ('platform_machine == "x86_64"', (), None),  # a host's machine is not what this process sees
    ('platform_machine == "x86_64" and sys_platform == "win32"', (), False),
    ('platform_machine == "x86_64" or python_version < "3"', (), None),
    ('platform_machine == "x86_64" or python_version > "3"', (), True),
    # uv compares versions there, not text: '3.11.2' in '3.11.20' is no proof (second review of issue 30)
    ('python_version in "3.10 3.11"', (), None),
    ('python_full_version not in "3.11.20"', (), None),
    ('os_name in "posix nt"', (), True),
    ('nonsense == "1"', (), None),
    ('python_version >=', (), None),
    ('(python_version >= "3"', (), None),
])
def test_markers_three_valued(marker, extras, expected):
    assert installed._marker(marker, VALUES, frozenset(extras)) is expected


def dist(version, *requires):
    return dict(name="x", version=version, requires=list(requires))


def test_satisfied_follows_dependencies_markers_and_extras():
    env = {"pylint": dist("3.3.1", "astroid <=3.4.0-dev0,>=3.3.4", "dill >=0.2 ; python_version < \"3.11\"",
                          "dill >=0.3.6 ; python_version >= \"3.11\"", "colorama ; sys_platform == \"win32\"",
                          "pyenchant ~=3.2 ; extra == 'spelling'"),
           "astroid": dist("3.3.5"), "dill": dist("0.3.9")}
    assert installed.satisfied(["pylint==3.3.1"], env, VALUES) is True
    assert installed.satisfied(["Pylint>=3,<4"], env, VALUES) is True
    assert installed.satisfied(["pylint==3.3.2"], env, VALUES) is None  # another version: uv decides
    assert installed.satisfied(["pylint[spelling]==3.3.1"], env, VALUES) is None  # pyenchant is missing
    assert installed.satisfied(["pylint", "six"], env, VALUES) is None
    assert installed.satisfied(["pylint @ https://example.invalid/p.whl"], env, VALUES) is None
    assert installed.satisfied(["pylint"], env, None) is None  # the environment's Python is not known
    env["dill"] = dist("0.3.5")  # a dependency below what pylint needs
    assert installed.satisfied(["pylint"], env, VALUES) is None
    del env["dill"]  # a dependency removed by hand
    assert installed.satisfied(["pylint"], env, VALUES) is None
    env["dill"] = dict(name="dill", version="0.3.9", requires=None)  # its METADATA is unreadable
    assert installed.satisfied(["pylint"], env, VALUES) is None


def test_reads_the_environment_as_uv_lists_it(tmp_path):
    env = tmp_path / "t"
    site = env / "lib" / "python3.11" / "site-packages"
    for folder, meta in (("PyYAML-6.0.2.dist-info", "Name: PyYAML\nVersion: 6.0.2\n"),
                         ("python_dateutil-2.9.0.post0.dist-info", "Name: python-dateutil\nVersion: 2.9.0.post0\n"
                          "Requires-Dist: six >=1.5\n\nRequires-Dist: not-a-header\n")):
        (site / folder).mkdir(parents=True)
        (site / folder / "METADATA").write_text("Metadata-Version: 2.1\n" + meta)
    (site / "six-1.17.0.dist-info").mkdir()  # no METADATA
    (env / "lib64").symlink_to("lib")
    assert installed.packages_on_disk(str(env)) == {
        "pyyaml": {"name": "pyyaml", "version": "6.0.2"}, "python-dateutil": {"name": "python-dateutil", "version": "2.9.0.post0"},
        "six": {"name": "six", "version": "1.17.0"}}
    full = installed.packages_on_disk(str(env), requires=True)
    assert full["python-dateutil"]["requires"] == ["six >=1.5"] and full["pyyaml"]["requires"] == [] and full["six"]["requires"] is None
    assert installed.marker_environment(str(env)) is None  # no pyvenv.cfg
    (env / "pyvenv.cfg").write_text("home = /usr/bin\nimplementation = CPython\nversion_info = 3.11.2\n")
    (tmp_path / "usr").mkdir()
    for series in ("3.11", "3.12"):
        (tmp_path / "usr" / ("python" + series)).write_text("")
    (tmp_path / "usr" / "python3").symlink_to("python3.11")
    (env / "bin").mkdir()
    (env / "bin" / "python").symlink_to(tmp_path / "usr" / "python3")  # as uv links it: the path as given
    assert installed.marker_environment(str(env)) == VALUES
    # The system's python3 upgraded underneath the tool: lib/python3.11 is no longer what its Python reads
    # (second review of issue 30: the no-op said "nothing to do" to a broken tool).
    (tmp_path / "usr" / "python3").unlink()
    (tmp_path / "usr" / "python3").symlink_to("python3.12")
    assert installed.marker_environment(str(env)) is None
    (tmp_path / "usr" / "python3").unlink()
    (tmp_path / "usr" / "python3").symlink_to("python3.11")
    assert installed.marker_environment(str(env)) == VALUES
    (env / "pyvenv.cfg").write_text("home = /usr/bin\nimplementation = CPython\nversion_info = 3.12.1\n")
    assert installed.marker_environment(str(env)) is None  # pyvenv.cfg names another Python than lib/ holds


def test_a_name_installed_twice_is_left_to_uv(tmp_path):
    """Two dist-info folders of one name, or an egg-info beside one: uv plans a reinstall, so the files prove
    nothing (second review of issue 30: the last folder read won and the no-op said "nothing to do")."""
    site = tmp_path / "t" / "lib" / "python3.11" / "site-packages"
    for folder in ("six-1.16.0.dist-info", "six-1.17.0.dist-info"):
        (site / folder).mkdir(parents=True)
        (site / folder / "METADATA").write_text("Metadata-Version: 2.1\nName: six\nVersion: %s\n" % folder.split("-")[1][:-5])
    full = installed.packages_on_disk(str(tmp_path / "t"), requires=True)
    assert installed.satisfied(["six==1.17.0"], full, VALUES) is None
    assert "twice" not in installed.packages_on_disk(str(tmp_path / "t"))["six"]  # the listing is as uv's
    (site / "six-1.16.0.dist-info" / "METADATA").unlink()
    (site / "six-1.16.0.dist-info").rmdir()
    assert installed.satisfied(["six==1.17.0"], installed.packages_on_disk(str(tmp_path / "t"), requires=True), VALUES) is True
    (site / "six-1.16.0-py3.11.egg-info").mkdir()
    assert installed.satisfied(["six==1.17.0"], installed.packages_on_disk(str(tmp_path / "t"), requires=True), VALUES) is None
