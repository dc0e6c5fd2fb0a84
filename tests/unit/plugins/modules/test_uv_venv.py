# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_venv in-process with the real uv (0.13.8 from the suite's mirror) and a real loopback index."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import VenvError, parse_dry_run, python_matches, requirement_name, with_version

sys.path.insert(0, os.path.dirname(__file__))
from uv_venv_support import PYTHON, broken_wheel, listing, needs_mirror, real_uv, spy_uv  # noqa: E402  pylint: disable=wrong-import-position


# -- pure parts ------------------------------------------------------------------

# Recorded from the real uv 0.13.8 and 0.5.11 (stderr of `uv pip install --dry-run`).
DRY_CHANGES = ("Using Python 3.12.1 environment at: v1\nResolved 2 packages in 7ms\nWould download 2 packages\n"
               "Would uninstall 1 package\nWould install 2 packages\n + python-dateutil==2.9.0.post0\n"
               " - six==1.16.0\n + six==1.17.0\n")
DRY_NOTHING_0138 = "Using Python 3.12.1 environment at: v1\nChecked 1 package in 3ms\nWould make no changes\n"
DRY_NOTHING_0511 = "Using Python 3.12.1 environment at: v1\nAudited 2 packages in 0.72ms\nWould make no changes\n"


@pytest.mark.parametrize("text, plan", [
    (DRY_CHANGES, [("+", "python-dateutil", "2.9.0.post0"), ("-", "six", "1.16.0"), ("+", "six", "1.17.0")]),
    (DRY_NOTHING_0138, []),
    (DRY_NOTHING_0511, []),
    (" + pkg @ file:///tmp/pkg\n ~ other==1.0\n", [("+", "pkg", "file:///tmp/pkg"), ("~", "other", "1.0")]),
    # uv 0.13.8 removing a package installed from a file or as an editable (review of issue 29).
    (" - alpha==1.0 (from file:///tmp/w/alpha-1.0-py3-none-any.whl)\n", [("-", "alpha", "1.0")]),
], ids=["changes", "nothing-0.13.8", "nothing-0.5.11", "direct-and-reinstall", "remove-direct"])
def test_parse_dry_run(text, plan):
    assert parse_dry_run(text) == plan


@pytest.mark.parametrize("given, name", [
    ("six", "six"), ("Python_Dateutil>=2", "python-dateutil"), ("pkg[extra]==1.0", "pkg"),
    ("pkg @ https://example.com/pkg.whl", "pkg"), ("six; python_version>'3'", "six"),
])
def test_requirement_name(given, name):
    assert requirement_name(given) == name


@pytest.mark.parametrize("bad", ["six=>1", "-e .", "", "six 1.0"])
def test_requirement_name_refuses(bad):
    with pytest.raises(VenvError, match="is not a valid requirement"):
        requirement_name(bad)


def test_python_matches(tmp_path):
    py = tmp_path / "python"
    py.write_text("")
    cfg = {"implementation": "CPython", "version_info": "3.12.7"}
    assert python_matches("3.12", cfg, str(py)) is True
    assert python_matches("cpython@3.12.7", cfg, str(py)) is True
    assert python_matches("3.11", cfg, str(py)) is False
    assert python_matches("pypy@3.12", cfg, str(py)) is False
    assert python_matches("3.13t", cfg, str(py)) is None
    assert python_matches("3.12", cfg, str(tmp_path / "gone")) is False


@needs_mirror
def test_check_then_create_then_noop_without_index_requests(venv, index):
    _url, counter = index
    rc, check = venv(check_mode=True, diff=True, name=["six==1.16.0", "python-dateutil==2.9.0.post0"])
    assert rc == 0 and check["changed"] and check["created"]
    assert check["msg"].startswith("would create %s" % venv.path)
    assert check["after"] == {"six": "1.16.0", "python-dateutil": "2.9.0.post0"}
    assert "+six==1.16.0" in "".join("+" + line for line in check["diff"]["after"].splitlines())
    assert not os.path.exists(venv.path)

    rc, made = venv(name=["six==1.16.0", "python-dateutil==2.9.0.post0"])
    assert rc == 0 and made["changed"] and made["created"] and not made["recreated"]
    assert listing(venv.path) == {"six": "1.16.0", "python-dateutil": "2.9.0.post0"}
    assert made["python"]["executable"] == os.path.join(venv.path, "bin", "python")
    assert made["python"]["version"] == "%d.%d.%d" % sys.version_info[:3]
    assert sorted(p["name"] for p in made["packages"]["installed"]) == ["python-dateutil", "six"]
    assert made["uv_version"] == "0.13.8"
    assert stat.S_IMODE(os.stat(venv.path).st_mode) == 0o755

    counter.reset()
    rc, again = venv(name=["six==1.16.0", "python-dateutil==2.9.0.post0"])
    assert rc == 0 and not again["changed"] and again["msg"].endswith("nothing to do")
    rc, check_again = venv(check_mode=True, name=["six==1.16.0"])
    assert rc == 0 and not check_again["changed"]
    assert counter.paths == []  # the pinned, satisfied request asked the index nothing


@needs_mirror
def test_latest_check_mode_then_upgrade_with_diff(venv):
    venv(name=["six==1.16.0"])
    rc, check = venv(check_mode=True, diff=True, name=["six"], state="latest")
    assert rc == 0 and check["changed"]
    assert check["packages"]["upgraded"] == [{"name": "six", "from": "1.16.0", "to": "1.17.0"}]
    assert listing(venv.path)["six"] == "1.16.0"
    assert check["diff"]["before"] == "six==1.16.0\n" and check["diff"]["after"] == "six==1.17.0\n"
    rc, done = venv(name=["six"], state="latest")
    assert rc == 0 and done["changed"] and listing(venv.path)["six"] == "1.17.0"
    assert done["before"] == {"six": "1.16.0"} and done["after"] == {"six": "1.17.0"}
    rc, again = venv(name=["six"], state="latest")
    assert rc == 0 and not again["changed"]
    rc, present = venv(name=["six"])  # present: an installed six satisfies "six"
    assert rc == 0 and not present["changed"]


@needs_mirror
def test_absent_exact_forcereinstall(venv):
    venv(name=["six==1.17.0", "packaging==24.2"])
    rc, check = venv(check_mode=True, name=["packaging"], state="absent")
    assert rc == 0 and check["changed"] and check["packages"]["removed"] == [{"name": "packaging", "version": "24.2"}]
    assert "packaging" in listing(venv.path)
    rc, gone = venv(name=["packaging"], state="absent")
    assert rc == 0 and gone["changed"] and "packaging" not in listing(venv.path)
    rc, again = venv(name=["packaging"], state="absent")
    assert rc == 0 and not again["changed"]

    venv(name=["packaging==24.1"])
    rc, check = venv(check_mode=True, name=["six==1.17.0"], state="exact")
    assert rc == 0 and check["changed"] and check["packages"]["removed"] == [{"name": "packaging", "version": "24.1"}]
    rc, exact = venv(name=["six==1.17.0"], state="exact")
    assert rc == 0 and exact["changed"] and listing(venv.path) == {"six": "1.17.0"}
    rc, again = venv(name=["six==1.17.0"], state="exact")
    assert rc == 0 and not again["changed"]

    rc, check = venv(check_mode=True, name=["six==1.17.0"], state="forcereinstall")
    assert rc == 0 and check["changed"] and check["packages"]["reinstalled"] == [{"name": "six", "version": "1.17.0"}]
    rc, forced = venv(name=["six==1.17.0"], state="forcereinstall")
    assert rc == 0 and forced["changed"] and forced["packages"]["reinstalled"] == [{"name": "six", "version": "1.17.0"}]


@needs_mirror
def test_requirements_and_constraints(venv, tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("python-dateutil\n")
    cons = tmp_path / "constraints.txt"
    cons.write_text("six==1.16.0\n")
    rc, check = venv(check_mode=True, requirements=["requirements.txt"], constraints=["constraints.txt"],
                     chdir=str(tmp_path))
    assert rc == 0 and check["changed"] and check["after"] == {"six": "1.16.0", "python-dateutil": "2.9.0.post0"}
    rc, done = venv(requirements=[str(reqs)], constraints=[str(cons)])
    assert rc == 0 and done["changed"] and listing(venv.path)["six"] == "1.16.0"
    rc, again = venv(check_mode=True, requirements=[str(reqs)], constraints=[str(cons)])
    assert rc == 0 and not again["changed"]
    rc, missing = venv(requirements=["nope.txt"], chdir=str(tmp_path))
    assert rc == 1 and "the requirements file %s does not exist" % (tmp_path / "nope.txt") in missing["msg"]


@needs_mirror
def test_bad_input_is_named_and_changes_nothing(venv, tmp_path, index):
    url, _counter = index
    rc, bad = venv(name=["six=>1"])
    assert rc == 1 and bad["msg"].startswith("error: Failed to parse: `six=>1`")
    assert not os.path.exists(venv.path)
    secret_url = url.replace("http://", "http://deploy:s3cretpw@")
    rc, unknown = venv(name=["nosuchpackage==1.0"], index_url=secret_url)
    assert rc == 1 and "nosuchpackage" in unknown["msg"]
    assert "indexes asked: index_url http://********@127.0.0.1" in unknown["msg"]
    assert "s3cretpw" not in str(unknown)
    rc, version = venv(name=["six==9.9"])
    assert rc == 1 and "six==9.9" in version["msg"] and url in version["msg"]
    assert not os.path.exists(venv.path)


@needs_mirror
def test_a_path_that_is_not_a_venv_is_refused(venv):
    os.makedirs(venv.path)
    keep = os.path.join(venv.path, "data.txt")
    with open(keep, "w") as handle:
        handle.write("precious")
    rc, refused = venv(name=["six"], recreate="always")
    assert rc == 1 and "has no pyvenv.cfg, so it is not a virtual environment" in refused["msg"]
    assert "refusing to replace it" in refused["msg"]
    assert os.listdir(venv.path) == ["data.txt"]


@needs_mirror
def test_recreate_on_python_change(venv, monkeypatch):
    others = [p for p in glob.glob("/root/.pyenv/versions/3.*/bin/python3.*")
              if re.match(r"^python3\.\d+$", os.path.basename(p)) and os.path.realpath(p) != PYTHON
              and "%d.%d" % sys.version_info[:2] not in os.path.basename(p)]
    if not others:
        pytest.skip("no second Python here")
    other = sorted(others)[-1]
    # uv finds a version request on PATH: the interpreter's own directory first (not pyenv's shims).
    monkeypatch.setenv("PATH", os.path.dirname(other) + os.pathsep + os.environ.get("PATH", ""))
    venv(name=["six==1.16.0"])
    series = os.path.basename(other)[len("python"):]
    rc, check = venv(check_mode=True, python=series, name=["six==1.16.0"])
    assert rc == 0, check["msg"]
    assert check["changed"] and check["recreated"] and "python %s was asked for" % series in check["reason"]
    rc, done = venv(python=other, name=["six==1.16.0"])
    assert rc == 0 and done["recreated"] and done["python"]["version"].startswith(series + ".")
    assert listing(venv.path) == {"six": "1.16.0"}
    rc, again = venv(python=series, name=["six==1.16.0"])
    assert rc == 0 and not again["changed"]
    rc, never = venv(python=PYTHON, recreate="never", name=["six==1.16.0"])
    assert rc == 0 and not never["changed"]


@needs_mirror
def test_directories_are_0755_whatever_the_umask(venv):
    old = os.umask(0o077)
    try:
        rc, made = venv(name=["six==1.16.0"])
    finally:
        os.umask(old)
    assert rc == 0 and made["changed"]
    for path in (os.path.dirname(venv.path), venv.path, os.path.join(venv.path, "bin")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755, path


@needs_mirror
def test_old_uv_is_refused(venv, tmp_path):
    old = real_uv("0.5.11", str(tmp_path / "old"))
    rc, refused = venv(uv_path=old, name=["six"])
    assert rc == 1 and "uv 0.5.11" in refused["msg"] and "too old" in refused["msg"]
    assert not os.path.exists(venv.path)


@needs_mirror
@pytest.mark.parametrize("recreate", ["always", "on_python_change"])
def test_a_failed_recreate_leaves_the_old_environment(venv, tmp_path, recreate):
    venv(name=["six==1.16.0"])
    # In site-packages, which belongs to the environment: a file of the operator's beside bin/ and lib/, or below
    # bin/, etc/ or share/, makes a recreate refuse (reviews 5 and 6).
    marker = os.path.join(glob.glob(os.path.join(venv.path, "lib", "python*", "site-packages"))[0], "kept.txt")
    with open(marker, "w") as handle:
        handle.write("old")
    links = broken_wheel(str(tmp_path / "links"))
    args = dict(name=["six==1.16.0", "brokenpkg==1.0"], find_links=[links])
    if recreate == "always":
        args["recreate"] = "always"
    else:
        args["system_site_packages"] = True  # pyvenv.cfg says false: recreated
    rc, failed = venv(**args)
    assert rc == 1 and "Bad CRC" in failed["msg"]
    assert os.path.isfile(marker) and listing(venv.path) == {"six": "1.16.0"}
    assert os.path.isfile(os.path.join(venv.path, "pyvenv.cfg"))
    parent = os.path.dirname(venv.path)
    assert sorted(os.listdir(parent)) == ["app"], "a temporary build was left behind"


@needs_mirror
def test_a_failed_create_leaves_nothing(venv, tmp_path):
    links = broken_wheel(str(tmp_path / "links"))
    rc, failed = venv(name=["brokenpkg==1.0"], find_links=[links])
    assert rc == 1 and "Bad CRC" in failed["msg"]
    assert not os.path.exists(venv.path)
    assert os.listdir(os.path.dirname(venv.path)) == []


@needs_mirror
def test_a_recreated_environment_works_under_its_final_name(venv):
    venv(name=["six==1.16.0"])
    rc, done = venv(name=["six==1.16.0"], recreate="always")
    assert rc == 0 and done["recreated"] and done["changed"]
    assert sorted(os.listdir(os.path.dirname(venv.path))) == ["app"]
    out = subprocess.run([os.path.join(venv.path, "bin", "python"), "-c", "import six, sys; print(sys.prefix, six.__file__)"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == venv.path and out[1].startswith(venv.path + os.sep)
    activate = subprocess.run(["bash", "-c", ". %s/bin/activate && echo $VIRTUAL_ENV" % venv.path],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert activate == venv.path
    assert "relocatable = true" in open(os.path.join(venv.path, "pyvenv.cfg")).read()


@needs_mirror
def test_a_wrapper_python_is_compared_by_the_interpreter_it_runs(venv, tmp_path):
    wrapper = tmp_path / "shims" / "python3"
    wrapper.parent.mkdir()
    wrapper.write_text('#!/bin/sh\nexec "%s" "$@"\n' % PYTHON)  # what a pyenv shim does
    wrapper.chmod(0o755)
    rc, made = venv(python=str(wrapper), name=["six==1.16.0"])
    assert rc == 0 and made["created"]
    rc, again = venv(python=str(wrapper), name=["six==1.16.0"])
    assert rc == 0 and not again["changed"] and not again["recreated"], again["msg"]


@needs_mirror
def test_system_site_packages_change_recreates_or_warns(venv, warned):
    venv(name=["six==1.16.0"])
    rc, kept = venv(name=["six==1.16.0"], system_site_packages=True, recreate="never")
    assert rc == 0 and not kept["changed"]
    assert any("include-system-site-packages = false" in w and "recreate=never" in w for w in warned)
    rc, check = venv(check_mode=True, name=["six==1.16.0"], system_site_packages=True)
    assert rc == 0 and check["changed"] and check["recreated"]
    assert "include-system-site-packages = false" in check["reason"]
    rc, done = venv(name=["six==1.16.0"], system_site_packages=True)
    assert rc == 0 and done["recreated"] and listing(venv.path) == {"six": "1.16.0"}
    assert "include-system-site-packages = true" in open(os.path.join(venv.path, "pyvenv.cfg")).read()
    rc, again = venv(name=["six==1.16.0"], system_site_packages=True)
    assert rc == 0 and not again["changed"]


@needs_mirror
def test_editable_project(venv, tmp_path):
    project = tmp_path / "src" / "proj"
    (project / "proj").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1.0"\ndescription = "x"\n'
        '[build-system]\nrequires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n')
    (project / "proj" / "__init__.py").write_text('"""proj"""\nVALUE = 1\n')
    rc, check = venv(check_mode=True, name=["proj"], editable=True, chdir=str(tmp_path / "src"))
    assert rc == 0 and check["changed"], check["msg"]
    rc, made = venv(name=["proj"], editable=True, chdir=str(tmp_path / "src"))
    assert rc == 0 and made["changed"] and made["after"] == {"proj": "0.1.0"}, made["msg"]
    (project / "proj" / "__init__.py").write_text('"""proj"""\nVALUE = 2\n')  # editable: the source is used
    out = subprocess.run([os.path.join(venv.path, "bin", "python"), "-c", "import proj; print(proj.VALUE)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "2"
    rc, again = venv(name=[str(project)], editable=True)
    assert rc == 0 and not again["changed"], again["msg"]
    rc, refused = venv(name=["proj"], editable=True, state="absent")
    assert rc == 1 and "editable applies to installing" in refused["msg"]


@needs_mirror
def test_offline_says_what_it_can_use(venv, tmp_path, wheels):
    rc, failed = venv(name=["six==1.17.0"], offline=True)
    assert rc == 1 and "offline=true" in failed["msg"] and "find_links" in failed["msg"]
    assert not os.path.exists(venv.path)
    links = tmp_path / "links"
    links.mkdir()
    for wheel in wheels:
        if os.path.basename(wheel).startswith("six-1.17.0"):
            shutil.copy(wheel, str(links))
    rc, done = venv(name=["six==1.17.0"], offline=True, find_links=[str(links)])
    assert rc == 0 and done["changed"] and listing(venv.path) == {"six": "1.17.0"}
    rc, again = venv(name=["six==1.17.0"], offline=True)  # satisfied: needs nothing
    assert rc == 0 and not again["changed"]


@pytest.mark.parametrize("name, version, expected", [
    ("requests[socks]", "2.31.0", "requests[socks]==2.31.0"),
    ("six", "1.17.0", "six==1.17.0"),
    ('requests[socks] ; python_version > "3"', "2.31.0", 'requests[socks]==2.31.0; python_version > "3"'),
    ("Python_Dateutil", " 2.9.0.post0 ", "Python_Dateutil==2.9.0.post0"),
], ids=["extras", "plain", "extras-and-marker", "spelling-kept"])
def test_with_version_keeps_extras_and_markers(name, version, expected):
    assert with_version(name, version) == expected


def test_with_version_refuses_a_second_version():
    with pytest.raises(VenvError, match="has its own version or URL"):
        with_version("six>=1", "1.17.0")


@needs_mirror
def test_version_keeps_the_extras_and_uv_warnings_are_task_warnings(venv, tmp_path, index, warned):
    url, _counter = index
    rc, done = venv(name=["six[nosuchextra]"], version="1.16.0")
    assert rc == 0 and listing(venv.path) == {"six": "1.16.0"}
    assert any("six[nosuchextra]==1.16.0" in c for c in done["cmd"])
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("--trusted-host example.com\npython-dateutil==2.9.0.post0\n")
    secret = url.replace("http://", "http://deploy:s3cretpw@")
    rc, result = venv(requirements=[str(reqs)], index_url=secret)
    assert rc == 0 and result["changed"]
    assert any("Ignoring unsupported option" in w and "--trusted-host" in w for w in warned), warned
    assert "s3cretpw" not in json.dumps(result) + json.dumps(warned)


@needs_mirror
def test_index_credentials_never_reach_uvs_command_line(venv, tmp_path, index, wheels):
    url, _counter = index
    secret = url.replace("http://", "http://deploy:s3cretpw@")
    links = tmp_path / "links"
    links.mkdir()
    shutil.copy([w for w in wheels if os.path.basename(w).startswith("iniconfig-")][0], str(links))
    spy, log = spy_uv(venv.uv, str(tmp_path / "spy"))
    args = dict(uv_path=spy, index_url=secret, extra_index_urls=[secret.replace("deploy", "extra")],
                find_links=[str(links), url.replace("http://", "http://tok3nvalue@").replace("/simple/", "/files/")])
    rc, check = venv(check_mode=True, name=["six==1.16.0", "iniconfig==2.0.0"], **args)
    assert rc == 0 and check["changed"], check["msg"]
    rc, made = venv(name=["six==1.16.0", "iniconfig==2.0.0"], **args)
    assert rc == 0 and made["changed"] and listing(venv.path) == {"six": "1.16.0", "iniconfig": "2.0.0"}, made["msg"]
    with open(log) as handle:
        argvs = handle.read()
    assert "pip install" in argvs
    for secret_part in ("s3cretpw", "deploy", "tok3nvalue", "127.0.0.1"):
        assert secret_part not in argvs, argvs  # in the environment of uv, not on its command line
    shown = " ".join(made["cmd"])
    assert "UV_INDEX_URL=http://********@127.0.0.1" in shown and "s3cretpw" not in json.dumps(made)
    assert "UV_FIND_LINKS=%s,http://********@127.0.0.1:" % links in shown


@needs_mirror
def test_editable_project_kept_by_exact_and_latest(venv, tmp_path):
    project = tmp_path / "src" / "proj"
    (project / "proj").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1.0"\ndescription = "x"\n'
        '[build-system]\nrequires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n')
    (project / "proj" / "__init__.py").write_text('"""proj"""\nVALUE = 1\n')
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("six==1.16.0\n")
    rc, made = venv(name=[str(project)], editable=True, requirements=[str(reqs)])
    assert rc == 0 and made["after"] == {"proj": "0.1.0", "six": "1.16.0"}, made["msg"]
    for state in ("exact", "latest", "exact"):
        rc, again = venv(name=[str(project)], editable=True, requirements=[str(reqs)], state=state)
        # uv builds a local project again each time it is asked for (fourth round: this is said, not hidden)
        assert rc == 0 and again["packages"]["reinstalled"] == [{"name": "proj", "version": "0.1.0"}], (state, again["msg"])
        assert not again["packages"]["removed"] and not again["packages"]["installed"], (state, again["msg"])
        assert listing(venv.path) == {"proj": "0.1.0", "six": "1.16.0"}
    venv(name=["packaging==24.2"])
    rc, exact = venv(name=[str(project)], editable=True, requirements=[str(reqs)], state="exact")
    assert rc == 0 and exact["changed"] and exact["packages"]["removed"] == [{"name": "packaging", "version": "24.2"}]
    assert listing(venv.path) == {"proj": "0.1.0", "six": "1.16.0"}
    (project / "proj" / "__init__.py").write_text('"""proj"""\nVALUE = 3\n')
    out = subprocess.run([os.path.join(venv.path, "bin", "python"), "-c", "import proj; print(proj.VALUE)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "3"  # still the editable install


@needs_mirror
def test_a_symlinked_path_is_kept_a_symlink(venv, tmp_path):
    real = tmp_path / "releases" / "venv"
    os.makedirs(os.path.dirname(venv.path))
    os.makedirs(str(real.parent))
    os.symlink(str(real), venv.path)
    rc, made = venv(name=["six==1.16.0"])
    assert rc == 0 and made["created"], made["msg"]
    rc, again = venv(name=["six==1.16.0"], recreate="always")
    assert rc == 0 and again["recreated"], again["msg"]
    assert os.path.islink(venv.path) and os.readlink(venv.path) == str(real)
    assert listing(str(real)) == {"six": "1.16.0"}
    assert sorted(os.listdir(str(real.parent))) == ["venv"] and sorted(os.listdir(os.path.dirname(venv.path))) == ["app"]
    rc, noop = venv(name=["six==1.16.0"])
    assert rc == 0 and not noop["changed"]


@needs_mirror
def test_os_errors_are_clear_failures(venv, tmp_path):
    parent = tmp_path / "afile"
    parent.write_text("not a directory")
    rc, failed = venv(path=str(parent / "venv"), name=["six==1.16.0"])
    assert rc == 1 and "exception" not in failed, failed
    assert str(parent) in failed["msg"] and "not a directory" in failed["msg"].lower(), failed["msg"]
    assert parent.read_text() == "not a directory"


@needs_mirror
@pytest.mark.parametrize("spelling", ["cp{0}{1}", "{0}{1}", "python{0}.{1}", "cpython{0}.{1}", "cpython-{0}.{1}"])
def test_python_spellings_are_a_noop_the_second_time(venv, monkeypatch, spelling):
    monkeypatch.setenv("PATH", os.path.dirname(PYTHON) + os.pathsep + os.environ.get("PATH", ""))
    request = spelling.format(*sys.version_info[:2])
    rc, made = venv(python=request, name=["six==1.16.0"])
    assert rc == 0 and made["created"], made["msg"]
    rc, again = venv(python=request, name=["six==1.16.0"])
    assert rc == 0 and not again["changed"] and not again["recreated"], again["msg"]


@needs_mirror
def test_a_relative_path_is_refused_or_starts_from_chdir(venv, tmp_path):
    rc, refused = venv(path="envs/rel", name=["six==1.16.0"])
    assert rc == 1 and "relative" in refused["msg"] and "envs/rel" in refused["msg"]
    rc, made = venv(path="envs/rel", chdir=str(tmp_path), name=["six==1.16.0"])
    assert rc == 0 and made["created"] and made["path"] == str(tmp_path / "envs" / "rel")
    assert listing(str(tmp_path / "envs" / "rel")) == {"six": "1.16.0"}


@needs_mirror
def test_a_downgrade_is_reported_as_one(venv):
    venv(name=["six==1.17.0", "packaging==24.1"])
    rc, check = venv(check_mode=True, name=["six==1.16.0", "packaging==24.2"])
    assert rc == 0 and check["changed"]
    assert check["packages"]["downgraded"] == [{"name": "six", "from": "1.17.0", "to": "1.16.0"}]
    assert check["packages"]["upgraded"] == [{"name": "packaging", "from": "24.1", "to": "24.2"}]
    assert "would downgrade six 1.17.0 -> 1.16.0" in check["msg"]
    rc, done = venv(name=["six==1.16.0", "packaging==24.2"])
    assert done["packages"]["downgraded"] == [{"name": "six", "from": "1.17.0", "to": "1.16.0"}]
    assert "downgraded six 1.17.0 -> 1.16.0" in done["msg"] and "upgraded packaging 24.1 -> 24.2" in done["msg"]
