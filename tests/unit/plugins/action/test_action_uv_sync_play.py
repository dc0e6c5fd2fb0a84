# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_sync with download_on=controller in real ansible-playbook runs: inventory hosts on the local connection,
the real uv 0.13.8, an application locked by it against a real loopback index that demands credentials
(tests/utils/lockindex.py) and counts every request.

The index is given to the task only (``index_url``, for the controller): the hosts get no index option, so any
``/simple/`` request would be a host's uv asking the index; the controller asks for the lock's file URLs only.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.action import uv_sync as action

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "module_utils"))
from real_uv import needs_mirror, real_uv  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "utils"))
import lockapp  # noqa: E402  pylint: disable=wrong-import-position
import lockindex  # noqa: E402  pylint: disable=wrong-import-position
import venvindex  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(action.__file__), "..", "..", "..", "..", ".."))
PYTHON = os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)
USER, PASSWORD = "deploy", "s3cr3t-pass"
PYPROJECT = """[project]
name = "app"
version = "0.1.0"
description = "a small application for uv_sync's controller mode"
requires-python = ">=3.9"
dependencies = ["six==1.16.0", "python-dateutil==2.9.0.post0", "fastpath==1.0"]

[build-system]
requires = ["flit_core>=3.2,<5"]
build-backend = "flit_core.buildapi"
"""
LOCKED = ["fastpath-1.0-cp39-abi3-manylinux_2_34_x86_64.whl", "python_dateutil-2.9.0.post0-py2.py3-none-any.whl",
          "six-1.16.0-py2.py3-none-any.whl"]

pytestmark = [
    needs_mirror,
    pytest.mark.skipif(not os.path.exists(PLAYBOOK) or not importlib.util.find_spec("requests"),
                       reason="needs ansible-playbook and requests beside this Python"),
    pytest.mark.skipif(os.uname().machine != "x86_64", reason="the application's compiled wheel is for x86_64"),
]

PLAY = """
- hosts: "{{ play_hosts_pattern }}"
  gather_facts: false
  tasks:
    - name: A host that says it is aarch64
      pyfleet.uv.uv_facts:
        arch: aarch64
      when: inventory_hostname in aarch64_hosts
    - name: Deploy
      pyfleet.uv.uv_sync:
        project_src: "{{ project }}"
        environment: "{{ envroot }}/{{ inventory_hostname }}/.venv"
        python: "{{ python }}"
        download_on: controller
        index_url: "{{ index_url }}"
        build_wheels: "{{ build_wheels }}"
        uv_path: "{{ uv }}"
        python_install_dir: "{{ envroot }}/pythons"
      register: out
      ignore_errors: true
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ out | to_json }}"
        dest: "{{ results }}/{{ inventory_hostname }}.json"
        mode: "0600"
      check_mode: false
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    made = str(tmp_path_factory.mktemp("made"))
    return venvindex.fetch() + [lockapp.make_wheel(made, "fastpath", "1.0", "cp39-abi3-manylinux_2_34_x86_64", pure=False)]


@pytest.fixture
def fleet(tmp_path, wheels):
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    if uv is None:
        pytest.skip("uv 0.13.8 is not in the mirror")
    with lockindex.hashed_index(wheels, auth=(USER, PASSWORD)) as index:
        authed = index.url.replace("http://", "http://%s:%s@" % (USER, PASSWORD))
        top = tmp_path / "project"
        (top / "src" / "app").mkdir(parents=True)
        (top / "src" / "app" / "__init__.py").write_text('"""The application."""\n__version__ = "0.1.0"\n')
        (top / "pyproject.toml").write_text(PYPROJECT)
        home = str(tmp_path / "lock-home")
        env = dict(os.environ, HOME=home, UV_DEFAULT_INDEX=authed, UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1",
                   XDG_CACHE_HOME=os.path.join(home, "cache"))
        env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "UV_INDEX_URL")}
        subprocess.run([uv, "lock", "--python", PYTHON], cwd=str(top), env=env, check=True, capture_output=True)
        assert PASSWORD not in (top / "uv.lock").read_text()
        index.reset()
        flit = [w for w in wheels if os.path.basename(w).startswith("flit_core-")][0]

        def play(hosts=("h1",), check=False, aarch64=(), python=PYTHON, verbose=False):
            results = tmp_path / "results"
            results.mkdir(exist_ok=True)
            for old in glob.glob(str(results / "*.json")):
                os.unlink(old)
            inventory = {"all": {"hosts": dict((name, {"ansible_connection": "local",
                                                       "ansible_python_interpreter": sys.executable})
                                               for name in ("h1", "h2"))}}
            (tmp_path / "inventory.yml").write_text(json.dumps(inventory))
            (tmp_path / "play.yml").write_text(PLAY)
            variables = dict(play_hosts_pattern=":".join(hosts), aarch64_hosts=list(aarch64), project=str(top),
                             envroot=str(tmp_path / "srv"), python=python, index_url=authed, build_wheels=[flit],
                             uv=uv, results=str(results))
            (tmp_path / "vars.json").write_text(json.dumps(variables))
            environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                           ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"),
                           ANSIBLE_DEPRECATION_WARNINGS="False", XDG_CACHE_HOME=str(tmp_path / "xdg"))
            argv = [PLAYBOOK, "-i", str(tmp_path / "inventory.yml"), "-e", "@" + str(tmp_path / "vars.json"),
                    str(tmp_path / "play.yml")] + (["--check", "--diff"] if check else []) + (["-vvv"] if verbose else [])
            run = subprocess.run(argv, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, timeout=900, check=False)
            assert run.returncode == 0, run.stdout[-6000:]
            out = dict((name, json.loads((results / ("%s.json" % name)).read_text())) for name in hosts)
            return run.stdout, out

        play.index, play.top, play.srv = index, top, tmp_path / "srv"
        play.authed, play.flit, play.uv = authed, flit, uv
        play.cache = tmp_path / "xdg" / "pyfleet-uv" / "artifacts" / "sha256"
        play.remote_tmp = tmp_path / "remote-tmp"
        yield play


def requested(index):
    return sorted(path.rsplit("/", 1)[-1] for path in index.paths)


def environment(play, host="h1"):
    return str(play.srv / host / ".venv")


def run_app(play, host="h1"):
    code = "import app, six, dateutil, fastpath; print(app.__version__, six.__version__, fastpath.VERSION)"
    return subprocess.run([os.path.join(environment(play, host), "bin", "python"), "-c", code], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_check_deploy_noop_and_a_poisoned_cache(fleet):
    # Check mode: the host plans (no download, nothing pushed or built).
    _log, out = fleet(check=True)
    check = out["h1"]
    assert not check.get("failed") and check["changed"], check
    assert "would switch" in check["msg"] and "the controller would push 4 wheels" in check["msg"], check["msg"]
    assert check["wheelhouse"]["files_pushed"] == 0 and check["missing_wheels"] == []
    assert "six==1.16.0" in check["diff"]["after"]
    assert fleet.index.paths == [] and not os.path.lexists(environment(fleet))

    # The deploy: each locked wheel downloaded once by the controller, no index page asked by anyone.
    log, out = fleet(verbose=True)
    made = out["h1"]
    assert not made.get("failed") and made["changed"], made
    assert requested(fleet.index) == LOCKED, fleet.index.paths
    assert made["wheelhouse"]["files_pushed"] == 4 and made["wheelhouse"]["downloaded"] == 3, made["wheelhouse"]
    assert "path" not in made["wheelhouse"], made["wheelhouse"]  # the remote tmp is gone after the task
    assert made["plan"]["python"]["version"] == "%d.%d.%d" % sys.version_info[:3] and made["plan"]["build"]
    assert any("pip sync" in c and "--offline" in c and "--no-index" in c for c in made["cmd"]), made["cmd"]
    assert run_app(fleet) == "0.1.0 1.16.0 1.0"
    assert PASSWORD not in log and PASSWORD not in json.dumps(made)
    assert os.listdir(str(fleet.remote_tmp)) == []  # the pushed project and wheels went with the remote tmp

    # The same lock again: decided on the host, nothing downloaded or pushed, no request anywhere.
    fleet.index.reset()
    _log, out = fleet()
    again = out["h1"]
    assert not again.get("failed") and not again["changed"], again
    assert again["wheelhouse"]["files_pushed"] == 0 and fleet.index.paths == []
    assert "path" not in again["wheelhouse"], again["wheelhouse"]

    # A cached wheel whose bytes changed (a poisoned cache) is never pushed: dropped and downloaded again.
    six = glob.glob(str(fleet.cache / "*-six-1.16.0-py2.py3-none-any.whl"))
    assert len(six) == 1, os.listdir(str(fleet.cache))
    with open(six[0], "r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0xFF]))
    (fleet.top / "src" / "app" / "more.py").write_text("")  # new sources: a new environment
    log, out = fleet()
    rebuilt = out["h1"]
    assert not rebuilt.get("failed") and rebuilt["changed"], rebuilt
    assert "no longer matches its sha256" in " ".join(log.split()), log[-3000:]
    assert requested(fleet.index) == ["six-1.16.0-py2.py3-none-any.whl"] and rebuilt["wheelhouse"]["downloaded"] == 1
    assert run_app(fleet) == "0.1.0 1.16.0 1.0"


def test_tampered_bytes_from_the_index_are_refused(fleet):
    fleet.index.tamper("six-1.16.0-py2.py3-none-any.whl")
    _log, out = fleet()
    failed = out["h1"]
    assert failed.get("failed") and "six-1.16.0-py2.py3-none-any.whl does not match uv.lock" in failed["msg"], failed
    assert "no host was changed" in failed["msg"] and PASSWORD not in json.dumps(failed)
    assert not os.path.lexists(environment(fleet)) and not os.path.exists(environment(fleet) + ".d")
    assert not glob.glob(str(fleet.cache / "*-six-*"))


def test_a_missing_wheel_on_one_host_fails_every_host_first(fleet):
    _log, out = fleet(hosts=("h1", "h2"), aarch64=("h2",), python="%d.%d" % sys.version_info[:2])
    for host in ("h1", "h2"):
        failed = out[host]
        assert failed.get("failed") and not failed.get("changed"), failed
        assert failed["missing_wheels"] == [dict(name="fastpath", version="1.0", hosts=["h2"], reason=(
            failed["missing_wheels"][0]["reason"]))], failed
        assert "no wheel for aarch64" in failed["missing_wheels"][0]["reason"]
        assert "download_on=host" in failed["msg"] and "no host was changed" in failed["msg"]
        assert not os.path.lexists(environment(fleet, host))
    assert "(not this host: h1)" in out["h1"]["msg"]
    assert fleet.index.paths == []


def test_a_kept_environment_that_fails_its_check_gets_its_wheels(fleet):
    """The probe checks a kept environment before it says no wheels are needed: a broken one is built
    again from pushed wheels (the host has no index), not from an empty wheelhouse."""
    _log, out = fleet()
    assert out["h1"]["changed"] and not out["h1"].get("failed"), out["h1"]
    first = os.path.realpath(environment(fleet))
    (fleet.top / "src" / "app" / "more.py").write_text("")
    _log, out = fleet()
    assert out["h1"]["changed"] and not out["h1"].get("failed"), out["h1"]
    for site in glob.glob(os.path.join(first, "lib", "python*", "site-packages")):
        shutil.rmtree(os.path.join(site, "app"), ignore_errors=True)
        for name in os.listdir(site):
            if name.endswith(".pth") and name.startswith("_app"):
                os.unlink(os.path.join(site, name))
    os.unlink(str(fleet.top / "src" / "app" / "more.py"))
    _log, out = fleet()
    back = out["h1"]
    assert back["changed"] and not back.get("failed"), back
    assert back["plan"]["build"] and back["wheelhouse"]["files_pushed"] > 0, back
    assert os.path.realpath(environment(fleet)) == first and run_app(fleet).startswith("0.1.0 "), back


BECOME_PLAY = """
- hosts: h1
  gather_facts: false
  tasks:
    - name: Deploy as nobody (su from root), download_on controller
      pyfleet.uv.uv_sync:
        project_src: "{{ project }}"
        environment: "{{ shared }}/srv/.venv"
        python: /usr/bin/python3
        download_on: controller
        index_url: "{{ index_url }}"
        build_wheels: "{{ build_wheels }}"
        uv_path: "{{ shared }}/uv"
        python_install_dir: "{{ shared }}/pythons"
      become: true
      become_method: su
      become_user: nobody
      become_flags: -s /bin/sh
      register: out
      ignore_errors: true
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ out | to_json }}"
        dest: "{{ results }}/h1.json"
        mode: "0600"
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("su") or not os.access("/usr/bin/python3", os.X_OK),
                    reason="needs root (su to nobody without a password) and /usr/bin/python3")
def test_become_another_user_gets_the_pushed_folder(fleet, tmp_path):
    """become to an unprivileged user: the remote tmp and the pushed wheelhouse folder are made as the connection
    user (root) and opened to the become user, who builds the environment with no index.

    The other direction (an unprivileged connection user who becomes root, where the folder made as the become
    user would refuse the connection user's copies: the reason for ``sudoable=False``) needs sudo or a login as
    another user over SSH, which this machine has not."""
    import pwd  # pylint: disable=import-outside-toplevel
    import tempfile  # pylint: disable=import-outside-toplevel

    nobody = pwd.getpwnam("nobody")
    shared = tempfile.mkdtemp(prefix="uv-sync-become-")  # nobody cannot enter pytest's folders (0700)
    try:
        os.chmod(shared, 0o755)
        shutil.copy2(fleet.uv, os.path.join(shared, "uv"))
        for folder in ("srv", "pythons"):
            os.mkdir(os.path.join(shared, folder))
            os.chown(os.path.join(shared, folder), nobody.pw_uid, nobody.pw_gid)
        results = tmp_path / "become-results"
        results.mkdir()
        inventory = {"all": {"hosts": {"h1": {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}}}}
        (tmp_path / "become-inventory.yml").write_text(json.dumps(inventory))
        (tmp_path / "become.yml").write_text(BECOME_PLAY)
        variables = dict(project=str(fleet.top), shared=shared, index_url=fleet.authed, build_wheels=[fleet.flit],
                         results=str(results))
        (tmp_path / "become-vars.json").write_text(json.dumps(variables))
        environ = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                       ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_DEPRECATION_WARNINGS="False",
                       XDG_CACHE_HOME=str(tmp_path / "xdg"))
        run = subprocess.run([PLAYBOOK, "-i", str(tmp_path / "become-inventory.yml"), "-e",
                              "@" + str(tmp_path / "become-vars.json"), str(tmp_path / "become.yml")],
                             env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                             timeout=900, check=False)
        assert run.returncode == 0, run.stdout[-6000:]
        made = json.loads((results / "h1.json").read_text())
        assert not made.get("failed") and made["changed"], made
        assert made["wheelhouse"]["files_pushed"] == 4, made["wheelhouse"]
        assert requested(fleet.index) == LOCKED and PASSWORD not in run.stdout
        current = os.path.realpath(os.path.join(shared, "srv", ".venv"))
        assert os.stat(current).st_uid == nobody.pw_uid  # built by the become user
        code = "import app, six, fastpath; print(app.__version__, six.__version__)"
        out = subprocess.run([os.path.join(shared, "srv", ".venv", "bin", "python"), "-c", code], capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == "0.1.0 1.16.0"
    finally:
        shutil.rmtree(shared, ignore_errors=True)
