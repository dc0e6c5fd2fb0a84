# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_venv with the real uv: what reviews found (each test failed before its fix); fixtures in conftest.py."""

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


sys.path.insert(0, os.path.dirname(__file__))
from uv_venv_support import (  # noqa: E402  pylint: disable=wrong-import-position
    PYTHON, default_python, flit_project, listing, needs_mirror, sha256, spy_uv, tree)


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


def data_wheel(directory):
    """A wheel whose data files go to the environment's root (``config/app.cfg``), as xgboost's do."""
    import zipfile  # pylint: disable=import-outside-toplevel
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "datapkg-1.0-py3-none-any.whl")
    files = {"datapkg/__init__.py": "", "datapkg-1.0.data/data/config/app.cfg": "k = v\n",
             "datapkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: datapkg\nVersion: 1.0\n",
             "datapkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr("datapkg-1.0.dist-info/RECORD", "".join("%s,,\n" % n for n in files) + "datapkg-1.0.dist-info/RECORD,,\n")
    return path


@needs_mirror
def test_a_recreate_keeps_to_what_the_environment_and_its_packages_own(venv, tmp_path):
    """Data files a package installed at the environment's root, pip 9's pip-selfcheck.json and pipenv's .project
    are the environment's own: a recreate goes on (second review of issue 29: they were refused as foreign)."""
    wheel = data_wheel(str(tmp_path / "wheels"))
    rc, made = venv(name=["six==1.16.0", wheel])
    assert rc == 0 and os.path.isfile(os.path.join(venv.path, "config", "app.cfg")), made
    for name in ("pip-selfcheck.json", ".project"):
        with open(os.path.join(venv.path, name), "w") as handle:
            handle.write("{}\n")
    rc, again = venv(recreate="always", name=["six==1.16.0", wheel])
    assert rc == 0 and again["changed"] and "holds more" not in again.get("msg", ""), again.get("msg")
    assert os.path.isfile(os.path.join(venv.path, "config", "app.cfg"))


@needs_mirror
def test_a_dynamic_version_project_gaining_a_dependency_agrees_in_check_mode(venv, tmp_path):
    """``dynamic = ["version"]``: a new dependency makes uv build the project again, and check mode says so too
    (second review of issue 29: check mode left the project's rebuild out)."""
    project = flit_project(tmp_path)
    text = (project / "pyproject.toml").read_text().replace('version = "0.1.0"', 'dynamic = ["version"]')
    (project / "pyproject.toml").write_text(text)
    (project / "proj" / "__init__.py").write_text('"""x"""\n__version__ = "0.1.0"\n')
    rc, made = venv(name=[str(project)], editable=True)
    assert rc == 0 and made["after"] == {"proj": "0.1.0"}, made["msg"]
    (project / "proj" / "__init__.py").write_text('"""x"""\n__version__ = "0.2.0"\n')
    (project / "pyproject.toml").write_text(text.replace('dynamic = ["version"]', 'dynamic = ["version"]\ndependencies = ["six==1.17.0"]'))
    rc, check = venv(check_mode=True, name=[str(project)], editable=True)
    rc2, real = venv(name=[str(project)], editable=True)
    assert rc == 0 and rc2 == 0 and real["after"] == {"proj": "0.2.0", "six": "1.17.0"}, real["msg"]
    assert "proj" in check["msg"] and "proj" in real["msg"], (check["msg"], real["msg"])


@needs_mirror
def test_a_recreate_refuses_the_operators_files_below_bin_etc_share(venv):
    """A hook in bin/, a configuration under etc/, data under share/: a recreate would delete them with the old
    environment (third review of issue 29: only top-level names were looked at)."""
    rc, made = venv(name=["six==1.16.0"])
    assert rc == 0, made
    mine = {"bin/deploy-hook": "#!/bin/sh\necho hook\n", "etc/myapp/app.conf": "db_password=x\n",
            "share/myapp/state.db": "data\n"}
    for rel, text in mine.items():
        os.makedirs(os.path.dirname(os.path.join(venv.path, rel)), exist_ok=True)
        with open(os.path.join(venv.path, rel), "w") as handle:
            handle.write(text)
    for check_mode in (True, False):
        rc, refused = venv(check_mode=check_mode, recreate="always", name=["six==1.16.0"])
        assert rc == 1 and "refusing to recreate" in refused["msg"], refused["msg"]
        assert all(rel in refused["msg"] for rel in mine), refused["msg"]
    assert all(open(os.path.join(venv.path, rel)).read() == text for rel, text in mine.items())
    # The environment's own files in bin/ (python links, activate scripts) and what packages list are not foreign.
    for rel in mine:
        os.unlink(os.path.join(venv.path, rel))
    rc, again = venv(recreate="always", name=["six==1.16.0"])
    assert rc == 0 and again["recreated"], again["msg"]


@needs_mirror
def test_check_mode_plans_with_the_python_uv_venv_takes_not_a_project_venv_in_chdir(venv, tmp_path):
    """``uv python find`` prefers a ``.venv`` found from the working directory, ``uv venv`` takes a system
    interpreter: check mode must plan with the latter (third review of issue 29)."""
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run([venv.uv, "venv", "--python", PYTHON, str(project / ".venv")], check=True, capture_output=True,
                   env=dict(os.environ, UV_PYTHON_DOWNLOADS="never"))
    target = str(tmp_path / "deploy")
    rc, planned = venv(check_mode=True, path=target, python=None, chdir=str(project), name=["six==1.16.0"])
    assert rc == 0 and planned["python"]["base"], planned
    assert ".venv" not in planned["python"]["base"], planned["python"]


@needs_mirror
def test_check_mode_fails_where_the_real_run_must_a_parent_that_is_a_file(venv, tmp_path):
    (tmp_path / "afile").write_text("x\n")
    path = str(tmp_path / "afile" / "venv")
    for check_mode in (True, False):
        rc, failed = venv(check_mode=check_mode, path=path, name=["six==1.16.0"])
        assert rc == 1 and "is not a directory" in failed["msg"] and "afile" in failed["msg"], failed["msg"]


@needs_mirror
def test_absent_on_a_directory_that_is_no_environment_removes_nothing_and_constraints_are_refused(venv, tmp_path):
    other = tmp_path / "notvenv"
    other.mkdir()
    (other / "x").write_text("x\n")
    rc, result = venv(path=str(other), name=["six"], state="absent")
    assert rc == 0 and not result["changed"] and "nothing to remove" in result["msg"], result
    assert (other / "x").exists()
    (tmp_path / "c.txt").write_text("six==1.0\n")
    rc, refused = venv(name=["six"], state="absent", constraints=[str(tmp_path / "c.txt")])
    assert rc == 1 and "constraints apply to installing" in refused["msg"], refused["msg"]
