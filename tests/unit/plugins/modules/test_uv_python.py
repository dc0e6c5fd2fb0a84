# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_python's flow in-process, with uv's answers replayed from recorded real outputs.

Real installs (the real uv, real CPython archives) are in tests/integration/targets/uv_python.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import os
import re
import tarfile
import threading

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_python
from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.real_uv import needs_mirror, real_uv

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "uv_python")


def recorded(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        data = json.load(handle)
    return data["rc"], data["stdout"], data["stderr"]


class FakeUv(object):
    """Answers like the recorded uv 0.13.8; ``installed`` is what ``python list --only-installed`` shows.

    It stands in for ``AnsibleModule.run_command`` under the real ``UvRunner``: each call is kept
    without the runner's ``--color never``, with the environment it ran in.
    """

    def __init__(self, installed, install=None, verify=(0, "3.12.1 (main)\n", ""), uninstall=None):
        self.installed = installed
        self.install_answer = install
        self.verify_answer = verify
        self.uninstall_answer = uninstall
        self.calls = []
        self.envs = []

    @property
    def run_command_of(self):
        """``AnsibleModule.run_command`` as this fake answers it (the module instance comes first)."""
        return lambda _module, argv, **_kwargs: self.run_command(argv)

    def run_command(self, argv):
        argv = list(argv)
        if argv[1:3] == ["--color", "never"]:
            del argv[1:3]
        self.calls.append(argv)
        self.envs.append(dict(os.environ))
        args = argv[1:]
        if args == ["--version"]:
            return recorded("new-version")
        if args[:3] == ["python", "list", "--only-installed"]:
            request = args[-1] if args[-1][:1].isdigit() else None
            return 0, json.dumps([e for e in self.installed
                                  if request is None or (e["version"] + ".").startswith(request + ".")]), ""
        if args[:3] == ["python", "list", "--only-downloads"]:
            return recorded("new-downloads")
        if args[:2] == ["python", "install"]:
            answer = self.install_answer or recorded("new-install")
            if answer[0] == 0:
                self.installed = json.loads(recorded("new-list-installed")[1])
            return answer
        if args[:2] == ["python", "uninstall"]:
            self.installed = []
            return self.uninstall_answer or recorded("new-uninstall")
        if args[:1] == ["-c"]:
            return self.verify_answer
        raise AssertionError("unexpected call %r" % (argv,))


@pytest.fixture
def fake(monkeypatch, tmp_path):
    def make(**kwargs):
        uv = FakeUv(**kwargs)
        monkeypatch.setattr(uv_python.AnsibleModule, "run_command", uv.run_command_of)
        monkeypatch.setattr(uv_python, "locate_uv", lambda path: ("/opt/fake/uv", "uv_path"))
        return uv
    return make


INSTALLED = json.loads(recorded("new-list-installed")[1])


def args(tmp_path, **extra):
    base = {"version": ["3.12"], "install_dir": str(tmp_path / "inst")}
    base.update(extra)
    return base


def test_noop_lists_only(run_module, fake, tmp_path):
    (tmp_path / "inst").mkdir()
    uv = fake(installed=INSTALLED)
    code, result = run_module(uv_python.main, args(tmp_path))
    assert code == 0, result
    assert result["changed"] is False
    assert result["installed"][0]["key"] == "cpython-3.12.1-linux-x86_64-gnu"
    assert result["previous"] == result["installed"]
    # uv --version and one offline listing: no install, no downloads list.
    assert [c[1:3] for c in uv.calls] == [["--version"], ["python", "list"]]
    assert "--only-installed" in uv.calls[1] and "--no-config" in uv.calls[1]


def test_check_mode_writes_nothing(run_module, fake, tmp_path):
    uv = fake(installed=[])
    code, result = run_module(uv_python.main, args(tmp_path), check_mode=True, diff=True)
    assert code == 0 and result["changed"] is True
    assert result["msg"].startswith("would install 3.12")
    assert not (tmp_path / "inst").exists()
    # The install dir does not exist: nothing to list, nothing run but uv --version.
    assert [c[1] for c in uv.calls] == ["--version"]


def test_install_runs_uv_with_the_explicit_environment_and_verifies(run_module, fake, tmp_path, monkeypatch):
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", "/home/someone/.local/share/uv/python")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    uv = fake(installed=[])
    code, result = run_module(uv_python.main, args(tmp_path, bin_dir=str(tmp_path / "bin"),
                                                   python_install_mirror="file:///srv/pbs"))
    assert code == 0, result
    assert result["changed"] is True and result["installed"][0]["sys_version"] == "3.12.1 (main)"
    install = [c for c in uv.calls if c[1:3] == ["python", "install"]][0]
    assert install[-1] == "3.12" and "--no-bin" not in install
    env = uv.envs[uv.calls.index(install)]
    assert env["UV_PYTHON_INSTALL_DIR"] == str(tmp_path / "inst")
    assert env["UV_PYTHON_BIN_DIR"] == str(tmp_path / "bin")
    assert env["UV_PYTHON_INSTALL_MIRROR"] == "file:///srv/pbs"
    assert "https_proxy" not in env and env["HOME"] != os.environ.get("HOME")
    # The interpreter uv lists is run once.
    assert [c for c in uv.calls if c[1:2] == ["-c"]][0][0].endswith("/bin/python3.12")


def test_uv_failure_is_quoted_and_nothing_stays(run_module, fake, tmp_path):
    uv = fake(installed=[], install=recorded("new-install-tampered"))
    code, result = run_module(uv_python.main, args(tmp_path))
    assert code == 1
    # uv's error and cause lines first (not "Downloading ..."), then the command; the whole output in stderr.
    assert result["msg"].startswith("error: Failed to install cpython-3.12.1-linux-x86_64-gnu\n  cause: Hash mismatch")
    assert "uv python install 3.12 failed (uv exit 1): /opt/fake/uv --color never python install" in result["msg"]
    assert result["msg"].endswith("nothing was installed")
    assert result["stderr"] == recorded("new-install-tampered")[2]
    assert not any(c[1:3] == ["python", "uninstall"] for c in uv.calls)


def test_python_that_does_not_run_is_removed_again(run_module, fake, tmp_path):
    uv = fake(installed=[], verify=(1, "", "ModuleNotFoundError: No module named '_ssl'"))
    code, result = run_module(uv_python.main, args(tmp_path))
    assert code == 1
    assert "does not run here" in result["msg"] and "_ssl" in result["msg"]
    assert "removed again: cpython-3.12.1-linux-x86_64-gnu" in result["msg"]
    assert [c for c in uv.calls if c[1:3] == ["python", "uninstall"]][0][-1] == "cpython-3.12.1-linux-x86_64-gnu"


def test_absent_removes_what_the_request_lists(run_module, fake, tmp_path):
    (tmp_path / "inst").mkdir()
    uv = fake(installed=INSTALLED)
    code, result = run_module(uv_python.main, args(tmp_path, state="absent"))
    assert code == 0 and result["changed"] is True
    assert result["msg"] == "removed cpython-3.12.1-linux-x86_64-gnu"
    assert [c for c in uv.calls if c[1:3] == ["python", "uninstall"]][0][3:] == ["cpython-3.12.1-linux-x86_64-gnu"]


@pytest.mark.parametrize("extra, message", [
    ({"version": ["latest"]}, "not a Python request"),
    ({"install_dir": "relative/dir"}, "install_dir must be an absolute path"),
    ({"default": True}, "set bin_dir"),
    ({"download_on": "controller"}, "needs the collection's action plugin"),
], ids=["request", "relative", "default", "controller"])
def test_refusals(run_module, fake, tmp_path, extra, message):
    fake(installed=[])
    code, result = run_module(uv_python.main, args(tmp_path, **extra))
    assert code == 1 and message in result["msg"]


def test_diff_shows_keys_before_and_after(run_module, fake, tmp_path):
    (tmp_path / "inst").mkdir()
    fake(installed=INSTALLED)
    _code, result = run_module(uv_python.main, args(tmp_path, state="absent"), check_mode=True, diff=True)
    assert result["diff"] == {"before": "cpython-3.12.1-linux-x86_64-gnu\n", "after": ""}
    _code, result = run_module(uv_python.main, args(tmp_path, version=["3.12", "3.13"]), check_mode=True, diff=True)
    assert result["diff"]["after"] == "3.13 (to install)\ncpython-3.12.1-linux-x86_64-gnu\n"


def test_credentials_of_the_sources_are_masked_in_the_invocation(run_module, fake, tmp_path):
    # A failure before anything runs (an unknown request) still returns the invocation: the user
    # info of both URL options is masked there and everywhere in the result.
    fake(installed=[])
    code, result = run_module(uv_python.main, args(
        tmp_path, version=["latest"], python_install_mirror="https://alice:s3cr%40t@mirror.example/pbs",
        python_downloads_json_url="https://TOKEN123456@mirror.example/python/downloads.json?sig=abcdefgh",
        _ansible_inject_invocation=True))
    assert code == 1
    text = json.dumps(result)
    for secret in ("s3cr%40t", "s3cr@t", "TOKEN123456", "abcdefgh"):
        assert secret not in text, secret
    assert result["invocation"]["module_args"]["python_install_mirror"] != "https://alice:s3cr%40t@mirror.example/pbs"


def test_new_directories_are_0755_whatever_the_umask(run_module, fake, tmp_path):
    # Hardened hosts set umask 027: install_dir (and the folders above it) must still be 0755, or no
    # other user can run the linked Pythons.
    fake(installed=[])
    install_dir = tmp_path / "opt" / "uv" / "python"
    old = os.umask(0o027)
    try:
        code, result = run_module(uv_python.main, args(tmp_path, install_dir=str(install_dir)))
    finally:
        os.umask(old)
    assert code == 0, result
    for path in (tmp_path / "opt", tmp_path / "opt" / "uv", install_dir):
        assert oct(path.stat().st_mode & 0o777) == "0o755", path


def test_lock_timeout_names_uv_python(run_module, fake, monkeypatch, tmp_path):
    import fcntl
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._install import DirLock

    def short_lock(path, **kwargs):
        return DirLock(path, timeout=0.3, **kwargs)
    monkeypatch.setattr(uv_python, "DirLock", short_lock)
    (tmp_path / "inst").mkdir()
    fake(installed=[])
    held = os.open(str(tmp_path / "inst"), os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        code, result = run_module(uv_python.main, args(tmp_path))
    finally:
        os.close(held)
    assert code == 1
    assert "another uv_python run has held the lock" in result["msg"], result["msg"]


def test_exact_older_patch_with_bin_dir_settles(run_module, fake, tmp_path):
    # 3.11.7 owns python3.11 (through uv's minor link); 3.11.2 is installed as well. A request for
    # 3.11.2 is satisfied: uv would not move the link back, so "relinking" would report changed forever.
    inst = tmp_path / "inst"
    entries = []
    for version in ("3.11.2", "3.11.7"):
        key = "cpython-%s-linux-x86_64-gnu" % version
        (inst / key / "bin").mkdir(parents=True)
        (inst / key / "bin" / "python3.11").write_text("")
        entries.append(dict(INSTALLED[0], key=key, version=version, path=str(inst / key / "bin" / "python3.11")))
    (inst / "cpython-3.11-linux-x86_64-gnu").symlink_to(inst / "cpython-3.11.7-linux-x86_64-gnu")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3.11").symlink_to(inst / "cpython-3.11-linux-x86_64-gnu" / "bin" / "python3.11")
    uv = fake(installed=entries)
    code, result = run_module(uv_python.main, args(tmp_path, version=["3.11.2"], bin_dir=str(tmp_path / "bin")))
    assert code == 0, result["msg"]
    assert result["changed"] is False, result["msg"]
    assert result["installed"][0]["version"] == "3.11.2"
    assert not any(c[1:3] == ["python", "install"] for c in uv.calls)


# -- the real uv against a loopback mirror (issue 32 item 3) -----------------------------------------

def foreign_archive():
    """A valid .tar.gz in python-build-standalone's layout that is not the release asset uv knows."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        body = b"#!/bin/sh\necho foreign\n"
        info = tarfile.TarInfo("python/bin/python3.12")
        info.size, info.mode = len(body), 0o755
        tar.addfile(info, io.BytesIO(body))
    return data.getvalue()


@contextlib.contextmanager
def mirror(body):
    """A mirror on 127.0.0.1 that answers every GET with ``body`` (404 when ``None``): (base URL, paths asked)."""
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
            asked.append(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/pbs" % server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()


@needs_mirror
@pytest.mark.parametrize("case", ["foreign", "missing"])
def test_real_uv_failure_reads_cause_first(run_module, tmp_path, case):
    """uv 0.13.8 installs 3.12 from a loopback mirror that holds a foreign archive (hash mismatch) or
    nothing (404): the message starts with uv's error and cause lines, with both hashes or the URL,
    then the command; never with uv's "Downloading cpython-..." lines; stderr keeps uv's whole output."""
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    body = foreign_archive() if case == "foreign" else None
    install_dir = tmp_path / "pythons"
    with mirror(body) as (url, asked):
        code, result = run_module(uv_python.main, {"version": ["3.12"], "install_dir": str(install_dir),
                                                   "uv_path": uv, "python_install_mirror": url})
    msg = result["msg"]
    print(msg)
    assert code == 1 and asked, result
    assert msg.startswith("error: Failed to install cpython-3.12"), msg
    lines = msg.splitlines()
    command = [i for i, line in enumerate(lines) if " failed (uv exit " in line and "--color never python install" in line]
    assert command, msg
    cause = lines[:command[0]]
    assert not any(line.lstrip().startswith(("Downloading", "Downloaded")) for line in cause), msg
    if case == "foreign":
        computed = hashlib.sha256(body).hexdigest()
        values = [line.strip() for line in cause if re.match(r"^[0-9a-f]{64}$", line.strip())]
        assert "Hash mismatch for `cpython-3.12" in msg and computed in values and len(set(values)) == 2, msg
        assert "the mirror must hold the unmodified python-build-standalone release assets" in lines[-1]
    else:
        assert any("404" in line for line in cause), msg
        asked_url = url[:-len("/pbs")] + asked[0]  # the mirror's URL of the file uv names
        assert any(asked_url in line for line in cause), (asked_url, msg)
    assert "error: Failed to install" in result["stderr"]
    assert msg.endswith(("nothing was installed", "release assets")), msg
    assert [n for n in os.listdir(str(install_dir)) if n.startswith("cpython")] == []
