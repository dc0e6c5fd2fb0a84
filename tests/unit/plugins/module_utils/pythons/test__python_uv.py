# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils.pythons._python_uv: uv's python commands through the real UvRunner, answered with what real uv printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.pythons import _python_uv
from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python import PythonError
from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python_uv import UvPython, python_settings
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "uv_python")


def recorded(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        data = json.load(handle)
    return data["rc"], data["stdout"], data["stderr"]


class Replay(object):
    """An AnsibleModule's ``run_command`` answering each uv subcommand with a recorded output.

    The runner's own ``--color never`` is taken off before matching; the environment each call
    ran with is kept (``envs``).
    """

    def __init__(self, *answers):
        self.answers = list(answers)  # [(argv prefix after uv, fixture name or (rc, out, err))]
        self.calls = []
        self.envs = []

    def run_command(self, argv, cwd=None, errors=None, handle_exceptions=True):
        args = list(argv[1:])
        if args[:2] == ["--color", "never"]:
            args = args[2:]
        self.calls.append(args)
        self.envs.append(dict(os.environ))
        for prefix, answer in self.answers:
            if args[:len(prefix)] == list(prefix):
                return recorded(answer) if isinstance(answer, str) else answer
        if args == ["--version"]:
            return recorded("new-version")
        raise AssertionError("unexpected call %r" % (argv,))


def uv_with(tmp_path, *answers, **settings):
    module = Replay(*answers)
    runner = UvRunner(module, "/usr/local/bin/uv", str(tmp_path), "/opt/uv/python", python_settings(**settings),
                      use_proxy=False, name="uv_python")
    return UvPython(runner), module


def test_settings_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", "/home/u/.local/share/uv/python")
    monkeypatch.setenv("https_proxy", "http://proxy:3128")
    assert python_settings() == {"UV_PYTHON_DOWNLOADS": "manual"}
    assert python_settings("/usr/local/bin", "file:///m", "/tmp/d.json", pypy_mirror=True) == {
        "UV_PYTHON_DOWNLOADS": "manual", "UV_PYTHON_BIN_DIR": "/usr/local/bin", "UV_PYTHON_INSTALL_MIRROR": "file:///m",
        "UV_PYPY_INSTALL_MIRROR": "file:///m", "UV_PYTHON_DOWNLOADS_JSON_URL": "/tmp/d.json"}
    uv, module = uv_with(tmp_path, (["python", "list"], "new-list-installed"), mirror="https://m/")
    uv.installed()
    env = module.envs[-1]
    assert env["UV_PYTHON_INSTALL_DIR"] == "/opt/uv/python" and env["UV_PYTHON_INSTALL_MIRROR"] == "https://m/"
    assert env["HOME"] == str(tmp_path) and "https_proxy" not in env and env["UV_NO_PROGRESS"] == "1"


@pytest.mark.parametrize("fixture, expected", [
    ("new-version", (0, 13, 8)),
    ("v080-version", (0, 8, 0)),
], ids=["0.13.8", "0.8.0-floor"])
def test_version_through_the_runner(tmp_path, fixture, expected):
    uv, _module = uv_with(tmp_path, (["--version"], fixture))
    assert uv.runner.version() == expected


def test_old_uv_is_refused_by_name(tmp_path):
    uv, module = uv_with(tmp_path, (["--version"], "old-version"))
    with pytest.raises(PythonError, match=r"uv 0\.5\.11 .* too old for uv_python, which needs uv 0\.8\.0"):
        uv.installed()
    assert module.calls == [["--version"]]


def test_listing_runs_offline_and_without_configuration(tmp_path):
    uv, module = uv_with(tmp_path, (["python", "list"], "new-list-installed"))
    assert [e["key"] for e in uv.installed("3.12")] == ["cpython-3.12.1-linux-x86_64-gnu"]
    args = module.calls[-1]
    assert args[-1] == "3.12" and "--only-installed" in args and "--managed-python" in args and "--no-config" in args


def test_old_uv_listing_fails_with_uvs_message(tmp_path):
    uv, _module = uv_with(tmp_path, (["python", "list"], "old-list-json"))
    with pytest.raises(PythonError, match="unexpected argument '--managed-python'"):
        uv.installed()


@pytest.mark.parametrize("fixture, first, quoted", [
    ("new-install-tampered", "error: Failed to install cpython-3.12.1-linux-x86_64-gnu",
     "cause: Hash mismatch for `cpython-3.12.1-linux-x86_64-gnu`"),
    ("new-install-missing", "error: failed to open file", "dl.json.missing"),
    ("v080-install-remote-json", "error: Remote Python downloads JSON is not yet supported",
     "this uv reads python_downloads_json_url only from a local path"),
], ids=["tampered", "missing", "remote-json"])
def test_install_failure_starts_with_uvs_error(tmp_path, fixture, first, quoted):
    uv, _module = uv_with(tmp_path, (["python", "install"], fixture))
    with pytest.raises(PythonError) as exc:
        uv.install(["3.12"])
    msg = exc.value.msg
    assert msg.startswith(first), msg
    assert quoted in msg and "uv python install 3.12 failed (uv exit" in msg
    assert "Downloading" not in msg
    assert exc.value.details["stderr"] == recorded(fixture)[2]


def test_hash_mismatch_keeps_both_values_before_the_command(tmp_path):
    uv, _module = uv_with(tmp_path, (["python", "install"], "new-install-tampered"))
    with pytest.raises(PythonError) as exc:
        uv.install(["3.12"])
    lines = exc.value.msg.splitlines()
    values = [i for i, line in enumerate(lines) if line.strip() in ("1" * 64, "0c62de697cb03d6ac30b2abc0ab8293a431f59f4e2b9fb4b15c9de0e7dc60c01")]
    command = [i for i, line in enumerate(lines) if "failed (uv exit 1): /usr/local/bin/uv --color never python install" in line]
    assert len(values) == 2 and command and max(values) < command[0], lines


def test_install_arguments(tmp_path):
    uv, module = uv_with(tmp_path, (["python", "install"], "new-install"))
    uv.install(["cpython-3.12.1-linux-x86_64-gnu"], bin_dir="/usr/local/bin", default=True)
    assert module.calls[-1] == ["python", "install", "--default", "cpython-3.12.1-linux-x86_64-gnu"]
    uv.install(["3.12"])
    assert module.calls[-1] == ["python", "install", "--no-bin", "3.12"]


def test_install_steps_remove_what_uv_left(tmp_path):
    listed = {"n": 0}

    def listing():
        listed["n"] += 1
        return recorded("new-list-empty") if listed["n"] == 1 else recorded("new-list-installed")
    warned = []

    class Module(Replay):
        def run_command(self, argv, **kwargs):
            if argv[3:5] == ["python", "list"]:
                self.calls.append(list(argv[3:]))
                return listing()
            return Replay.run_command(self, argv, **kwargs)
    module = Module((["python", "install"], "new-install-tampered"), (["python", "uninstall"], "new-uninstall"))
    uv = UvPython(UvRunner(module, "/usr/local/bin/uv", str(tmp_path), "/opt/uv/python",
                           python_settings(mirror="http://127.0.0.1:9/pbs")))
    step = dict(request="3.12", action="install", entry=None, default=False)
    with pytest.raises(PythonError) as exc:
        uv.install_steps([step], None, warned.append)
    msg = exc.value.msg
    assert msg.startswith("error: Failed to install cpython-3.12.1-linux-x86_64-gnu")
    assert "; removed what uv left half-installed: cpython-3.12.1-linux-x86_64-gnu" in msg
    assert msg.endswith("the mirror must hold the unmodified python-build-standalone release assets")
    assert module.calls[-1] == ["python", "uninstall", "cpython-3.12.1-linux-x86_64-gnu"] and warned == []


def test_verify_runs_the_interpreter(tmp_path):
    class Real(object):
        def run_command(self, argv, cwd=None, errors=None, handle_exceptions=True):
            proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, check=False)
            return proc.returncode, proc.stdout, proc.stderr
    uv = UvPython(UvRunner(Real(), "uv", str(tmp_path)))
    ok, detail = uv.verify(sys.executable)
    assert ok and detail.startswith("%d.%d" % sys.version_info[:2])
    ok, detail = uv.verify("/bin/false")
    assert not ok and "failed (exit 1)" in detail
    ok, detail = uv.verify(str(tmp_path / "missing"))
    assert not ok and "cannot be started" in detail


def test_module_utils_file_stays_python_3_6():
    with open(_python_uv.__file__) as handle:
        compile(handle.read(), _python_uv.__file__, "exec")
