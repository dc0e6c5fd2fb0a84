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
import tempfile

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import VenvError, parse_dry_run, python_matches, requirement_name, with_version
from ansible_collections.pyfleet.uv.plugins.modules import uv_venv

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror, real_uv  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import venvindex  # noqa: E402  pylint: disable=wrong-import-position

# The base Python of the environments: the one running the tests (its real interpreter).
PYTHON = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


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


# -- the module with the real uv ----------------------------------------------------

@pytest.fixture(scope="module")
def wheels():
    return venvindex.fetch()


@pytest.fixture
def uv(tmp_path):
    path = real_uv("0.13.8", str(tmp_path / "uvs"))
    if path is None:
        pytest.skip("uv 0.13.8 is not in the mirror")
    return path


@pytest.fixture
def index(wheels):
    with venvindex.static_index(wheels) as (url, counter):
        yield url, counter


@pytest.fixture
def venv(run_module, tmp_path, uv, index):
    url, _counter = index
    path = str(tmp_path / "envs" / "app")

    def call(check_mode=False, diff=False, **args):
        base = {"path": path, "python": PYTHON, "uv_path": uv, "index_url": url,
                "python_install_dir": str(tmp_path / "pythons")}
        base.update(args)
        return run_module(uv_venv.main, base, check_mode=check_mode, diff=diff)
    call.path = path
    call.uv = uv
    return call


def listing(path):
    out = {}
    for dist in glob.glob(os.path.join(path, "lib", "python*", "site-packages", "*.dist-info")):
        name, version = os.path.basename(dist)[:-len(".dist-info")].split("-", 1)
        out[name.lower().replace("_", "-")] = version
    return out


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


# -- review of issue 29 (second round): each of these failed before its fix -----------

@pytest.fixture
def warned(monkeypatch):
    """Every AnsibleModule.warn() of the test (ansible-core 2.19+ may send them past the result)."""
    from ansible.module_utils.basic import AnsibleModule  # pylint: disable=import-outside-toplevel
    texts = []
    real = AnsibleModule.warn

    def warn(self, warning, *args, **kwargs):
        texts.append(warning)
        return real(self, warning, *args, **kwargs)
    monkeypatch.setattr(AnsibleModule, "warn", warn)
    return texts


def broken_wheel(directory):
    """A wheel that uv's dry run accepts (its METADATA reads fine) and whose install fails (bad CRC)."""
    import zipfile  # pylint: disable=import-outside-toplevel
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "brokenpkg-1.0-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("brokenpkg/__init__.py", 'VALUE = "intact-content-here"\n')
        archive.writestr("brokenpkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: brokenpkg\nVersion: 1.0\n")
        archive.writestr("brokenpkg-1.0.dist-info/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("brokenpkg-1.0.dist-info/RECORD", "")
    with open(path, "rb") as handle:
        data = handle.read()
    at = data.index(b"intact-content-here")
    with open(path, "wb") as handle:
        handle.write(data[:at] + b"X" + data[at + 1:])
    return directory


@needs_mirror
@pytest.mark.parametrize("recreate", ["always", "on_python_change"])
def test_a_failed_recreate_leaves_the_old_environment(venv, tmp_path, recreate):
    venv(name=["six==1.16.0"])
    # In share/, a folder environments hold: a file beside bin/ and lib/ makes a recreate refuse (review 5).
    os.makedirs(os.path.join(venv.path, "share"), exist_ok=True)
    marker = os.path.join(venv.path, "share", "kept.txt")
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


# -- review of issue 29 (third round): each of these failed before its fix -----------

def spy_uv(uv, directory):
    """A uv that writes the command line it was started with (its real argv) to a log, then runs the real uv."""
    os.makedirs(directory, exist_ok=True)
    log = os.path.join(directory, "argv.log")
    spy = os.path.join(directory, "uv")
    with open(spy, "w") as handle:
        handle.write('#!/bin/sh\ntr "\\0" " " < /proc/$$/cmdline >> "%s"\necho >> "%s"\nexec "%s" "$@"\n' % (log, log, uv))
    os.chmod(spy, 0o755)
    return spy, log


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
    assert str(parent) in failed["msg"] and "Not a directory" in failed["msg"], failed["msg"]
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


def tree(path):
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            out[full] = os.lstat(full).st_mtime_ns
    out[path] = os.lstat(path).st_mtime_ns
    return out


@needs_mirror
def test_check_mode_writes_nothing(venv, tmp_path):
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", venv.path], check=True)  # made by another tool
    venv(name=["six==1.16.0"])
    os.unlink(os.path.join(venv.path, ".lock"))
    before = tree(str(tmp_path / "envs"))
    for args in (dict(name=["six==1.17.0"]), dict(name=["six"], state="latest"), dict(name=["six"], state="absent"),
                 dict(name=["six==1.16.0"], state="exact"), dict(name=["six==1.16.0"])):
        rc, check = venv(check_mode=True, **args)
        assert rc == 0, check["msg"]
        assert tree(str(tmp_path / "envs")) == before, args
    rc, noop = venv(name=["six==1.16.0"])
    assert rc == 0 and not noop["changed"] and tree(str(tmp_path / "envs")) == before


@needs_mirror
def test_the_user_of_a_direct_url_is_masked(venv, index):
    url, _counter = index
    wheel = url.replace("http://", "http://deploy:s3cretpw@").rstrip("/").rsplit("/", 1)[0] + "/files/six-1.17.0-py2.py3-none-any.whl"

    def ours(result):
        # invocation is Ansible's own echo of the arguments: ansible-core 2.16 masks only the
        # password of a URL there (2.21 masks more); the module's own fields must not name the user
        text = json.dumps(result)
        assert "s3cretpw" not in text, result["msg"]
        return json.dumps(dict((k, v) for k, v in result.items() if k != "invocation"))

    rc, check = venv(check_mode=True, diff=True, name=["six @ " + wheel])
    assert rc == 0 and check["changed"], check["msg"]
    assert "deploy" not in ours(check), check["msg"]  # uv prints the user and masks only the password
    venv(name=["six==1.16.0"])
    rc, check = venv(check_mode=True, diff=True, name=["six @ " + wheel])
    assert rc == 0 and check["changed"] and "deploy" not in ours(check), check["msg"]


@needs_mirror
def test_no_hardlink_warning_across_filesystems(venv, tmp_path, warned):
    if os.stat("/dev/shm").st_dev == os.stat(str(tmp_path)).st_dev:
        pytest.skip("/dev/shm is not another filesystem here")
    base = tempfile.mkdtemp(prefix="uv-venv-test-", dir="/dev/shm")
    try:
        rc, made = venv(path=os.path.join(base, "app"), name=["six==1.16.0"])
        assert rc == 0 and made["changed"], made["msg"]
        assert not [w for w in warned if "hardlink" in w], warned
    finally:
        shutil.rmtree(base)


# -- review of issue 29 (fourth round): each of these failed before its fix -----------

@needs_mirror
def test_activate_works_under_posix_sh(venv):
    venv(name=["six==1.16.0"])
    activate = os.path.join(venv.path, "bin", "activate")
    mode = stat.S_IMODE(os.stat(activate).st_mode)
    python = os.path.join(venv.path, "bin", "python")
    for shell in ("sh", "dash", "bash"):
        if not shutil.which(shell):
            continue
        out = subprocess.run([shell, "-c", '. "%s"; command -v python; echo "$VIRTUAL_ENV"' % activate],
                             capture_output=True, text=True, cwd="/", check=True).stdout.split()
        assert out == [python, venv.path], (shell, out)
    rc, again = venv(name=["six==1.16.0"], recreate="always")
    assert rc == 0 and again["recreated"]
    assert stat.S_IMODE(os.stat(activate).st_mode) == mode
    out = subprocess.run(["sh", "-c", '. "%s"; command -v python' % activate],
                         capture_output=True, text=True, cwd="/", check=True).stdout.strip()
    assert out == python


@needs_mirror
def test_url_and_index_credentials_in_name_and_extra_args_stay_off_argv(venv, tmp_path, index):
    url, _counter = index
    wheel = url.replace("http://", "http://carol:UrlReqPw99@").rstrip("/").rsplit("/", 1)[0] + \
        "/files/six-1.17.0-py2.py3-none-any.whl"
    spy, log = spy_uv(venv.uv, str(tmp_path / "spy"))
    rc, check = venv(check_mode=True, uv_path=spy, name=["six @ " + wheel])
    assert rc == 0 and check["changed"], check["msg"]
    rc, made = venv(uv_path=spy, name=["six @ " + wheel])
    assert rc == 0 and made["changed"] and listing(venv.path) == {"six": "1.17.0"}, made["msg"]
    rc, again = venv(uv_path=spy, name=["six @ " + wheel])
    assert rc == 0, again["msg"]
    rc, gone = venv(uv_path=spy, name=["six @ " + wheel], state="absent")
    assert rc == 0 and gone["changed"] and listing(venv.path) == {}, gone["msg"]
    secret = url.replace("http://", "http://erin:IndexOptPw55@")
    rc, other = venv(uv_path=spy, index_url=None, name=["iniconfig==2.0.0"], extra_args=["--index " + secret])
    assert rc == 0 and other["changed"] and listing(venv.path) == {"iniconfig": "2.0.0"}, other["msg"]
    with open(log) as handle:
        argvs = handle.read()
    assert "pip install" in argvs and "pip uninstall" in argvs
    for part in ("UrlReqPw99", "carol", "IndexOptPw55", "erin"):
        assert part not in argvs, argvs
    for result in (check, made, again, gone, other):
        assert "UrlReqPw99" not in json.dumps(result) and "IndexOptPw55" not in json.dumps(result)
    assert not glob.glob(os.path.join(str(tmp_path), "**", "*UrlReqPw99*"), recursive=True)


def default_python(uv):
    out = subprocess.run([uv, "python", "find"], capture_output=True, text=True, check=False,
                         env=dict(os.environ, UV_PYTHON_DOWNLOADS="never")).stdout.strip()
    return os.path.realpath(out) if out else None


@needs_mirror
def test_a_recreate_without_python_keeps_the_environments_python(venv, monkeypatch):
    default = default_python(venv.uv)
    others = sorted(p for p in glob.glob("/root/.pyenv/versions/3.*/bin/python3.*") + ["/usr/bin/python3.11"]
                    if re.match(r"^python3\.\d+$", os.path.basename(p)) and os.path.exists(p)
                    and os.path.realpath(p) != default)
    if not others:
        pytest.skip("no Python here other than uv's default")
    other = others[-1]
    rc, made = venv(python=other, name=["six==1.16.0"])
    assert rc == 0 and made["created"], made["msg"]
    version = made["python"]["version"]
    rc, again = venv(python=None, name=["six==1.16.0"], recreate="always")
    assert rc == 0 and again["recreated"], again["msg"]
    assert again["python"]["version"] == version, again["msg"]
    rc, ssp = venv(python=None, name=["six==1.16.0"], system_site_packages=True)
    assert rc == 0 and ssp["recreated"] and ssp["python"]["version"] == version, ssp["msg"]
    assert listing(venv.path) == {"six": "1.16.0"}


def sha256(path):
    import hashlib  # pylint: disable=import-outside-toplevel
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@needs_mirror
def test_exact_satisfied_asks_the_index_nothing(venv, index, tmp_path, wheels):
    _url, counter = index
    venv(name=["six==1.17.0", "packaging==24.2"])
    rc, exact = venv(name=["six==1.17.0"], state="exact")
    assert rc == 0 and exact["changed"] and listing(venv.path) == {"six": "1.17.0"}
    counter.reset()
    rc, again = venv(name=["six==1.17.0"], state="exact")
    assert rc == 0 and not again["changed"], again["msg"]
    rc, check = venv(check_mode=True, name=["six==1.17.0"], state="exact")
    assert rc == 0 and not check["changed"], check["msg"]
    assert counter.paths == []
    # the guide's locked environment: requirements with hashes, require_hashes, no_build, exact
    six = [w for w in wheels if os.path.basename(w).startswith("six-1.17.0")][0]
    dateutil = [w for w in wheels if os.path.basename(w).startswith("python_dateutil-")][0]
    lock = tmp_path / "requirements.lock"
    lock.write_text("six==1.17.0 --hash=sha256:%s\npython-dateutil==2.9.0.post0 --hash=sha256:%s\n"
                    % (sha256(six), sha256(dateutil)))
    args = dict(requirements=[str(lock)], state="exact", require_hashes=True, no_build=True)
    rc, locked = venv(**args)
    assert rc == 0 and locked["changed"], locked["msg"]
    counter.reset()
    rc, again = venv(**args)
    assert rc == 0 and not again["changed"], again["msg"]
    assert counter.paths == []
    # not satisfied offline: the online dry run decides as before
    rc, more = venv(name=["packaging==24.2"], requirements=[str(lock)], state="exact")
    assert rc == 0 and more["changed"] and more["packages"]["installed"] == [{"name": "packaging", "version": "24.2"}]


def flit_project(root, name="proj"):
    project = root / "src" / name
    (project / name).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "%s"\nversion = "0.1.0"\ndescription = "x"\n'
        '[build-system]\nrequires = ["flit_core>=3.2,<5"]\nbuild-backend = "flit_core.buildapi"\n' % name)
    (project / name / "__init__.py").write_text('"""x"""\nVALUE = 1\n')
    return project


@needs_mirror
def test_editable_check_mode_agrees_with_the_real_run(venv, tmp_path):
    project = flit_project(tmp_path)
    rc, check = venv(check_mode=True, diff=True, name=[str(project)], editable=True)
    assert rc == 0 and check["changed"] and check["after"] == {"proj": "0.1.0"}, check["after"]
    venv(name=[str(project)], editable=True)
    for state in ("exact", "latest", "forcereinstall"):
        rc, check = venv(check_mode=True, name=[str(project)], editable=True, state=state)
        rc2, real = venv(name=[str(project)], editable=True, state=state)
        assert rc == 0 and rc2 == 0
        assert check["packages"] == real["packages"] and check["changed"] == real["changed"], (state, check["msg"], real["msg"])
        assert real["packages"]["reinstalled"] == [{"name": "proj", "version": "0.1.0"}], (state, real["msg"])
        assert check["after"] == real["after"] == {"proj": "0.1.0"}
        assert check["msg"] == "would " + real["msg"].replace("reinstalled", "reinstall"), (check["msg"], real["msg"])
    rc, present = venv(name=[str(project)], editable=True)
    assert rc == 0 and not present["changed"], present["msg"]


@needs_mirror
def test_a_conversion_to_editable_is_a_change(venv, tmp_path):
    project = flit_project(tmp_path)
    venv(name=[str(project)])
    rc, check = venv(check_mode=True, name=[str(project)], editable=True)
    rc2, real = venv(name=[str(project)], editable=True)
    assert rc == 0 and rc2 == 0
    assert check["changed"] and real["changed"], (check["msg"], real["msg"])
    assert check["packages"] == real["packages"]
    assert real["packages"]["reinstalled"] == [{"name": "proj", "version": "0.1.0"}]
    rc, again = venv(name=[str(project)], editable=True)
    assert rc == 0 and not again["changed"]


@needs_mirror
def test_a_gone_interpreter_is_named(venv, tmp_path):
    if not os.path.exists("/usr/bin/python3.11"):
        pytest.skip("no /usr/bin/python3.11 to copy")
    base = tmp_path / "py" / "python3.11"
    base.parent.mkdir()
    shutil.copy2("/usr/bin/python3.11", str(base))
    rc, made = venv(python=str(base), name=["six==1.16.0"])
    assert rc == 0 and made["created"], made["msg"]
    base.unlink()
    rc, failed = venv(python=None, name=["six==1.16.0"])
    assert rc == 1 and "interpreter" in failed["msg"] and "is gone" in failed["msg"], failed["msg"]
    assert "give python" in failed["msg"] and "No virtual environment" not in failed["msg"], failed["msg"]


@needs_mirror
def test_asked_indexes_and_failed_before(venv, tmp_path, index):
    url, _counter = index
    venv(name=["six==1.16.0"])
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("--index-url %s\nnosuchpackage==1.0\n" % url)
    rc, failed = venv(index_url=None, requirements=[str(reqs)])
    assert rc == 1 and "nosuchpackage" in failed["msg"], failed["msg"]
    assert "uv's default index" not in failed["msg"] and "requirements" in failed["msg"].split("indexes asked:")[1]
    assert failed["before"] == {"six": "1.16.0"}, failed["before"]
    rc, failed = venv(index_url=None, name=["nosuchpackage==1.0"], extra_args=["--default-index", url])
    assert rc == 1 and "extra_args" in failed["msg"].split("indexes asked:")[1], failed["msg"]


# -- a fresh install runs only what it needs (issue 29 item 7) ------------------------------------

@needs_mirror
def test_a_fresh_install_runs_four_uv_calls(venv, index):
    """A new environment: the version, ``uv venv`` (which finds the Python itself: no ``uv python find``
    first), one install (one resolve) and the list of what it holds; no list of the empty environment."""
    _url, counter = index
    rc, made = venv(name=["six==1.16.0"])
    assert rc == 0 and made["changed"] and made["created"]
    verbs = []
    for command in made["cmd"]:
        words = command.split(" --color never ", 1)[-1].split() if "--color never" in command else ["--version"]
        verbs.append(" ".join(words[:2]) if words[0] == "pip" else words[0])
    assert verbs == ["--version", "venv", "pip install", "pip list"]
    assert made["python"]["base"] == os.path.realpath(PYTHON)
    assert len([p for p in counter.paths if p.startswith("/simple/")]) == 1  # one resolve
    # A Python that cannot be found fails while making the environment and leaves nothing behind.
    other = os.path.join(os.path.dirname(venv.path), "other")
    rc, failed = venv(path=other, python="3.1", name=["six==1.16.0"])
    assert rc != 0 and "3.1" in failed["msg"] and not os.path.exists(other)
    assert os.listdir(os.path.dirname(other)) == ["app"]


# -- review of uv_venv (round 5) ---------------------------------------------------------------

@needs_mirror
def test_a_reinstalled_remote_direct_reference_is_a_change(venv, index):
    """``forcereinstall`` of ``six @ http://.../six-1.17.0-...whl``: uv plans ``- six==1.17.0`` and ``+ six @ URL``;
    that is a reinstall, in check mode and for real (it was reported as nothing to do)."""
    url, _counter = index
    wheel = "six @ %s/files/six-1.17.0-py2.py3-none-any.whl" % url.rstrip("/").rsplit("/simple", 1)[0]
    rc, made = venv(name=[wheel])
    assert rc == 0 and made["changed"] and made["after"]["six"] == "1.17.0"
    rc, check = venv(check_mode=True, name=[wheel], state="forcereinstall")
    assert rc == 0 and check["changed"] and [p["name"] for p in check["packages"]["reinstalled"]] == ["six"]
    assert check["msg"] == "would reinstall six 1.17.0"
    rc, again = venv(name=[wheel], state="forcereinstall")
    assert rc == 0 and again["changed"] and again["msg"] == "reinstalled six 1.17.0"
    rc, noop = venv(name=[wheel])
    assert rc == 0 and not noop["changed"]


@needs_mirror
@pytest.mark.parametrize("request_", [">=3.6", "cpython", "cpython@>=3.6"])
def test_a_range_or_implementation_the_environment_satisfies_keeps_it(venv, monkeypatch, request_):
    """``python: ">=3.6"`` or ``cpython`` on an environment whose interpreter satisfies it, while uv's first pick on
    the host is another Python: the environment is kept (it was recreated, on every run)."""
    others = [p for p in glob.glob("/root/.pyenv/versions/3.*/bin/python3.*")
              if re.match(r"^python3\.\d+$", os.path.basename(p)) and os.path.realpath(p) != PYTHON
              and "%d.%d" % sys.version_info[:2] not in os.path.basename(p)
              and tuple(int(n) for n in os.path.basename(p)[len("python"):].split(".")) >= (3, 6)]
    if not others:
        pytest.skip("no second Python here")
    rc, made = venv(python=PYTHON, name=["six==1.16.0"])
    assert rc == 0 and made["created"]
    other = sorted(others)[-1]
    monkeypatch.setenv("PATH", os.path.dirname(other) + os.pathsep + os.environ.get("PATH", ""))
    rc, check = venv(check_mode=True, python=request_, name=["six==1.16.0"])
    assert rc == 0 and not check["changed"], check.get("reason")
    rc, again = venv(python=request_, name=["six==1.16.0"])
    assert rc == 0 and not again["changed"] and not again["recreated"], again.get("reason")
    # A range the environment does not satisfy still recreates it (on uv's pick, the other Python).
    series = os.path.basename(other)[len("python"):]
    rc, moved = venv(check_mode=True, python=">=%s,<%s.999" % (series, series), name=["six==1.16.0"])
    assert rc == 0 and moved["recreated"], moved["msg"]


@needs_mirror
def test_check_mode_of_a_local_wheel_at_another_version_agrees_with_the_real_run(venv, wheels):
    """six 1.16.0 installed from its wheel file, then the 1.17.0 wheel file asked for: an upgrade, in check mode too
    (check mode said "would reinstall six 1.16.0")."""
    old = [w for w in wheels if os.path.basename(w).startswith("six-1.16.0")][0]
    new = [w for w in wheels if os.path.basename(w).startswith("six-1.17.0")][0]
    rc, made = venv(name=[old])
    assert rc == 0 and made["after"] == {"six": "1.16.0"}
    rc, check = venv(check_mode=True, diff=True, name=[new])
    rc2, real = venv(name=[new])
    assert rc == 0 and rc2 == 0
    assert real["after"] == check["after"] == {"six": "1.17.0"}, check["msg"]
    assert check["packages"] == real["packages"] and real["packages"]["upgraded"] == [
        {"name": "six", "from": "1.16.0", "to": "1.17.0"}]
    assert check["msg"] == "would upgrade six 1.16.0 -> 1.17.0"


@needs_mirror
def test_a_changed_editable_project_is_picked_up_by_present(venv, tmp_path):
    """An editable project that gains a dependency and a version: ``present`` installs them (it left the project out
    of the request and said "nothing to do"); unchanged, it stays a no-op."""
    project = flit_project(tmp_path)
    rc, made = venv(name=[str(project)], editable=True)
    assert rc == 0 and made["after"] == {"proj": "0.1.0"}
    rc, again = venv(name=[str(project)], editable=True)
    assert rc == 0 and not again["changed"], again["msg"]
    text = (project / "pyproject.toml").read_text()
    (project / "pyproject.toml").write_text(text.replace('version = "0.1.0"', 'version = "0.2.0"\ndependencies = ["six==1.17.0"]'))
    rc, check = venv(check_mode=True, name=[str(project)], editable=True)
    rc2, real = venv(name=[str(project)], editable=True)
    assert rc == 0 and rc2 == 0
    assert check["changed"] and real["changed"], (check["msg"], real["msg"])
    assert real["after"] == check["after"] == {"proj": "0.2.0", "six": "1.17.0"}, (check["msg"], real["msg"])
    assert check["packages"] == real["packages"]
    rc, last = venv(name=[str(project)], editable=True)
    assert rc == 0 and not last["changed"], last["msg"]


@needs_mirror
def test_a_recreate_refuses_a_directory_holding_more_than_an_environment(venv, tmp_path):
    """``python -m venv .`` in a project: a recreate would delete the project's files with the old environment."""
    path = tmp_path / "project"
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(path)], check=True)
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("precious\n")
    (path / "settings.ini").write_text("k=v\n")
    for check_mode in (True, False):
        rc, refused = venv(check_mode=check_mode, path=str(path), recreate="always", name=["six==1.16.0"])
        assert rc == 1 and "settings.ini, src" in refused["msg"] and "refusing to recreate" in refused["msg"], refused["msg"]
        assert (path / "src" / "app.py").read_text() == "precious\n" and (path / "settings.ini").exists()
        assert refused["after"] == refused["before"]  # a failed task changed nothing (review: LOW 6)
    assert not [n for n in os.listdir(str(tmp_path)) if "uv-venv" in n]
    # The environment's Python is named from ``version`` (python -m venv writes no version_info).
    rc, other = venv(check_mode=True, path=str(path), python="3.1", name=["six==1.16.0"])
    assert rc == 1 and "the environment has Python 3." in other["msg"], other["msg"]


@needs_mirror
def test_a_failed_install_reports_after_as_before(venv):
    venv(name=["six==1.16.0"])
    rc, failed = venv(name=["six==1.17.0", "nosuch-pyfleet-package"])
    assert rc == 1 and failed["before"] == {"six": "1.16.0"} and failed["after"] == {"six": "1.16.0"}, failed
