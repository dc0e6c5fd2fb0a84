# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils.pythons._python: parsing what real uv printed (fixtures/uv_python), planning, reporting."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.pythons import _python
from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python import (
    PythonError,
    best,
    check_options,
    decide,
    describe,
    filter_downloads,
    link_problem,
    parse_list,
    parse_request,
    previous_of,
    report_diff,
    report_items,
    summary,
    venvs_of,
    venvs_using,
)

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "uv_python")


def recorded(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)


@pytest.mark.parametrize("request_", ["3", "3.12", "3.12.7", "cpython@3.13", "pypy@3.10", "cpython3.12", "3.13t",
                                      "3.14.0rc2", "pypy", "cpython-3.12.7-linux-x86_64-gnu",
                                      "cpython-3.12.7-linux-x86_64_v3-gnu", " 3.12 "])
def test_parse_request_accepts_uv_forms(request_):
    assert parse_request(request_) == request_.strip()


@pytest.mark.parametrize("request_", ["", "latest", "3.12; rm -rf /", "--default", "3.12 3.13", "@3.12", "../x"])
def test_parse_request_refuses_others(request_):
    with pytest.raises(PythonError, match="not a Python request"):
        parse_request(request_)


def test_parse_list_of_installed_recorded_from_0_13_8():
    entries = parse_list(recorded("new-list-installed")["stdout"])
    assert len(entries) == 1
    entry = entries[0]
    assert entry["key"] == "cpython-3.12.1-linux-x86_64-gnu"
    assert entry["version"] == "3.12.1" and entry["implementation"] == "cpython" and entry["variant"] == "default"
    # 0.13.8 lists the interpreter through the minor-version link it keeps.
    assert entry["path"].endswith("/cpython-3.12-linux-x86_64-gnu/bin/python3.12")
    assert describe(entry, "3.12")["target"] == "linux-x86_64-gnu"


def test_parse_list_of_installed_recorded_from_0_8_0():
    entry = parse_list(recorded("v080-list-installed")["stdout"])[0]
    # 0.8.0 has no minor-version link: the path names the patch directory.
    assert entry["path"].endswith("/cpython-3.12.1-linux-x86_64-gnu/bin/python3.12")


def test_parse_list_of_downloads_and_empty():
    assert parse_list(recorded("new-list-empty")["stdout"]) == []
    download = parse_list(recorded("new-downloads")["stdout"])[0]
    assert download["path"] is None and download["url"].startswith("file:///")
    mirrored = parse_list(recorded("new-downloads-mirror")["stdout"])[0]
    # A mirror replaces uv's GitHub prefix; the file is asked for below its build tag.
    assert mirrored["url"] == ("http://127.0.0.1:9/pbs/20241016/"
                               "cpython-3.12.7%2B20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz")


@pytest.mark.parametrize("text", ["", "not json", '{"key": 1}', "warning: x\n[]x"])
def test_parse_list_refuses_what_is_not_a_list(text):
    with pytest.raises(PythonError, match="uv python list printed"):
        parse_list(text)


INSTALLED = parse_list(recorded("new-list-installed")["stdout"])
NEWER = dict(INSTALLED[0], key="cpython-3.12.8-linux-x86_64-gnu", version="3.12.8", path=None)


@pytest.mark.parametrize("state, installed, newest, links, action", [
    ("present", [], None, None, "install"),
    ("present", INSTALLED, None, None, "none"),
    ("present", INSTALLED, None, "/usr/local/bin/python3.12 is missing", "relink"),
    ("latest", INSTALLED, INSTALLED[0], None, "none"),
    ("latest", INSTALLED, NEWER, None, "install"),
    ("latest", [], NEWER, None, "install"),
    ("absent", INSTALLED, None, None, "uninstall"),
    ("absent", [], None, None, "none"),
], ids=["present-missing", "present-there", "present-relink", "latest-current", "latest-newer", "latest-missing",
        "absent-there", "absent-missing"])
def test_decide(state, installed, newest, links, action):
    assert decide(state, "3.12", installed, newest, links)[0] == action


def test_decide_latest_without_any_download_fails():
    with pytest.raises(PythonError, match="no download matches 3.12"):
        decide("latest", "3.12", INSTALLED, None)


def test_link_problem(tmp_path):
    python_dir = tmp_path / "inst" / "cpython-3.12.1-linux-x86_64-gnu" / "bin"
    python_dir.mkdir(parents=True)
    (python_dir / "python3.12").write_text("")
    entry = dict(key="k", path=str(python_dir / "python3.12"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    assert link_problem(entry, None) is None
    assert "python3.12 is missing" in link_problem(entry, str(bin_dir))
    (bin_dir / "python3.12").symlink_to(python_dir / "python3.12")
    assert link_problem(entry, str(bin_dir)) is None
    assert "python3 is missing" in link_problem(entry, str(bin_dir), default=True)
    (bin_dir / "python3").symlink_to("/bin/true")
    assert "leads to" in link_problem(entry, str(bin_dir), default=True)


def _managed(install_dir, version, minor_link=False):
    """A managed Python as uv 0.13.8 lays it out (``cpython-<version>-linux-x86_64-gnu/bin/python3.X``)."""
    key = "cpython-%s-linux-x86_64-gnu" % version
    series = ".".join(version.split(".")[:2])
    (install_dir / key / "bin").mkdir(parents=True)
    (install_dir / key / "bin" / ("python" + series)).write_text("")
    if minor_link:
        link = install_dir / ("cpython-%s-linux-x86_64-gnu" % series)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(install_dir / key)
    return dict(key=key, version=version, implementation="cpython", variant="default", os="linux",
                arch="x86_64", libc="gnu", path=str(install_dir / key / "bin" / ("python" + series)))


def test_link_problem_exact_older_patch_leaves_the_minor_link_to_the_newest(tmp_path):
    # uv 0.10+ points python3.11 (and python3, python with --default) through its minor link
    # cpython-3.11-... at the newest installed patch and never moves it back to an older one: an
    # exact older patch is satisfied with the link leading to a newer patch of the same series.
    inst = tmp_path / "inst"
    old = _managed(inst, "3.11.2")
    new = _managed(inst, "3.11.7", minor_link=True)
    other = _managed(inst, "3.12.1")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python3.11", "python3", "python"):
        (bin_dir / name).symlink_to(inst / "cpython-3.11-linux-x86_64-gnu" / "bin" / "python3.11")
    every = [old, new, other]
    assert link_problem(old, str(bin_dir), installed=every) is None
    assert link_problem(old, str(bin_dir), default=True, installed=every) is None
    assert link_problem(new, str(bin_dir), default=True, installed=every) is None
    # Without the newer patch installed (or not told about it) the link must lead to the request's own.
    assert "leads to" in link_problem(old, str(bin_dir), installed=[old, other])
    assert "leads to" in link_problem(old, str(bin_dir))
    # A link to an older patch does not satisfy the newer one, nor one of another series.
    (bin_dir / "python3.11").unlink()
    (bin_dir / "python3.11").symlink_to(old["path"])
    assert "leads to" in link_problem(new, str(bin_dir), installed=every)
    (bin_dir / "python3").unlink()
    (bin_dir / "python3").symlink_to(other["path"])
    assert "leads to" in link_problem(old, str(bin_dir), default=True, installed=every)


def test_venvs_using_follow_uvs_minor_link(tmp_path):
    inst = tmp_path / "inst"
    old = inst / "cpython-3.12.1-linux-x86_64-gnu"
    new = inst / "cpython-3.12.2-linux-x86_64-gnu"
    for d in (old, new):
        (d / "bin").mkdir(parents=True)
    (inst / "cpython-3.12-linux-x86_64-gnu").symlink_to(new)
    venvs = tmp_path / "srv"
    for name, home in (("pinned", old / "bin"), ("minor", inst / "cpython-3.12-linux-x86_64-gnu" / "bin"),
                       ("system", "/usr/bin")):
        (venvs / "app" / name).mkdir(parents=True)
        (venvs / "app" / name / "pyvenv.cfg").write_text("home = %s\nversion_info = 3.12\n" % home)
    found = venvs_using([str(venvs)], [str(old), str(new)])
    assert found == {str(old): [str(venvs / "app" / "pinned")], str(new): [str(venvs / "app" / "minor")]}
    assert venvs_using([str(tmp_path / "none")], [str(old)]) == {}


def test_filter_downloads_keeps_what_may_serve_the_requests():
    data = {
        "cpython-3.12.7-linux-x86_64-gnu": dict(name="cpython", major=3, minor=12, patch=7),
        "cpython-3.12.7-linux-aarch64-gnu": dict(name="cpython", major=3, minor=12, patch=7),
        "cpython-3.12.1-linux-x86_64-gnu": dict(name="cpython", major=3, minor=12, patch=1),
        "cpython-3.13.0-linux-x86_64-gnu": dict(name="cpython", major=3, minor=13, patch=0),
        "pypy-3.10.14-linux-x86_64-gnu": dict(name="pypy", major=3, minor=10, patch=14),
    }
    assert sorted(filter_downloads(data, ["3.12.7"])) == ["cpython-3.12.7-linux-aarch64-gnu",
                                                          "cpython-3.12.7-linux-x86_64-gnu"]
    assert len(filter_downloads(data, ["3.12"])) == 3
    assert list(filter_downloads(data, ["pypy@3.10"])) == ["pypy-3.10.14-linux-x86_64-gnu"]
    assert list(filter_downloads(data, ["cpython-3.13.0-linux-x86_64-gnu"])) == ["cpython-3.13.0-linux-x86_64-gnu"]
    assert len(filter_downloads(data, ["pypy"])) == len(data)  # not read: everything stays


def test_filter_downloads_takes_uvs_short_names():
    data = {
        "cpython-3.12.7-linux-x86_64-gnu": dict(name="cpython", major=3, minor=12, patch=7),
        "cpython-3.13.0-linux-x86_64-gnu": dict(name="cpython", major=3, minor=13, patch=0),
        "pypy-3.10.14-linux-x86_64-gnu": dict(name="pypy", major=3, minor=10, patch=14),
        "graalpy-3.11.0-linux-x86_64-gnu": dict(name="graalpy", major=3, minor=11, patch=0),
    }
    assert list(filter_downloads(data, ["cp@3.12"])) == ["cpython-3.12.7-linux-x86_64-gnu"]
    assert list(filter_downloads(data, ["cp3.13"])) == ["cpython-3.13.0-linux-x86_64-gnu"]
    assert list(filter_downloads(data, ["pp@3.10"])) == ["pypy-3.10.14-linux-x86_64-gnu"]
    assert list(filter_downloads(data, ["gp@3.11"])) == ["graalpy-3.11.0-linux-x86_64-gnu"]
    # cp312 (uv reads 3.12) and other forms this reading does not know keep everything.
    assert len(filter_downloads(data, ["cp312"])) == len(data)


OPTIONS = dict(version=["3.12"], install_dir="/opt/uv/python", bin_dir=None, default=False, download_on="host",
               state="present", plan_only=False, local_downloads=None, local_mirror=None)


@pytest.mark.parametrize("extra, message", [
    ({"version": []}, "version lists no Python"),
    ({"version": ["latest"]}, "not a Python request"),
    ({"bin_dir": "bin"}, "bin_dir must be an absolute path, got bin"),
    ({"default": True}, "set bin_dir"),
    ({"download_on": "controller"}, "needs the collection's action plugin"),
], ids=["none", "request", "relative-bin", "default", "controller"])
def test_check_options_refuses(extra, message):
    with pytest.raises(PythonError, match=message):
        check_options(dict(OPTIONS, **extra))
    assert check_options(dict(OPTIONS, version=[" 3.12 ", "pypy@3.10"])) == ["3.12", "pypy@3.10"]
    assert check_options(dict(OPTIONS, download_on="controller", local_mirror="/tmp/m")) == ["3.12"]


def test_reporting_from_the_steps(tmp_path):
    entry = INSTALLED[0]
    older = dict(entry, key="cpython-3.12.0-linux-x86_64-gnu", version="3.12.0")
    keep = dict(request="3.12", action="none", reason="installed", entry=entry, installed=[entry, older])
    new = dict(request="3.13", action="install", reason="no installed Python matches 3.13", entry=None, installed=[])
    assert best([older, entry]) == entry and best([older, entry], dict(version="3.12.0")) == older
    assert best([]) is None
    assert [p["key"] for p in previous_of([keep, keep])] == [entry["key"], older["key"]]
    items = report_items([keep, new], "present", check_mode=True)
    assert items[0]["key"] == entry["key"] and items[1] == dict(request="3.13", key=None, target=None, version=None,
                                                                implementation=None, variant=None, path=None,
                                                                arch=None, libc=None)
    assert summary([new]) == "install 3.13 (3.13: no installed Python matches 3.13)"
    assert report_diff(previous_of([keep]), items, "present")["after"].splitlines() == [
        "3.13 (to install)", older["key"], entry["key"]]
    assert report_diff(previous_of([keep]), report_items([keep], "absent", False), "absent")["after"] == ""
    venv = tmp_path / "srv" / "app"
    venv.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = %s/%s/bin\n" % (tmp_path, entry["key"]))
    assert venvs_of([str(tmp_path / "srv")], str(tmp_path), [keep]) == {entry["key"]: [str(venv)]}
    assert venvs_of([], str(tmp_path), [keep]) == {}


def test_module_utils_file_stays_python_3_6():
    # The target side must not use 3.7+ syntax; compile() with the running Python is a
    # smoke check here, vermin in the py36-static stage is the real one.
    with open(_python.__file__) as handle:
        compile(handle.read(), _python.__file__, "exec")
