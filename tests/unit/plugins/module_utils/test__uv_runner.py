# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_uv_runner: which uv, its version floor, its environment and its failures, with the real uv binaries."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils import _uv_runner
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import (
    UvRunError,
    UvRunner,
    error_lines,
    failure_message,
    locate_uv,
    uv_environment,
)

sys.path.insert(0, os.path.dirname(__file__))
from real_uv import needs_mirror, real_uv  # noqa: E402  pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
import venvindex  # noqa: E402  pylint: disable=wrong-import-position


class Module:
    """What UvRunner needs of an AnsibleModule: ``run_command`` (a real process, in the real environment)."""

    def run_command(self, argv, cwd=None, errors=None, handle_exceptions=True):
        proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, env=dict(os.environ), check=False)
        return proc.returncode, proc.stdout, proc.stderr


# Recorded from the real uv (0.13.8, 0.5.11) with --color never, stderr only.
ERR_0138_RESOLVE = (
    "Using Python 3.12.1 environment at: /tmp/v1\n"
    "error: No solution found when resolving dependencies\n"
    "  cause: Because nosuch was not found in the provided package locations and you require nosuch, we can\n"
    "conclude that your requirements are unsatisfiable.\n"
)
ERR_0511_PARSE = (
    "error: Couldn't parse requirement in `r.txt` at position 12\n"
    "  Caused by: Unexpected end of version specifier, expected version\n"
    "bad===\n"
    "   ^^^\n"
)
ERR_0511_RESOLVE = (
    "Using Python 3.12.1 environment at: v1\n"
    "  \u00d7 No solution found when resolving dependencies:\n"
    "  \u2570\u2500\u25b6 Because nosuch was not found in the provided package locations\n"
    "      and you require nosuch, we can conclude that your requirements are\n"
    "      unsatisfiable.\n"
)


@pytest.mark.parametrize("text, first, count", [
    (ERR_0138_RESOLVE, "error: No solution found when resolving dependencies", 3),
    (ERR_0511_PARSE, "error: Couldn't parse requirement in `r.txt` at position 12", 4),
    (ERR_0511_RESOLVE, "\u00d7 No solution found when resolving dependencies:", 4),
    ("Resolved 1 package in 5ms\nwarning: something\n", None, 0),
], ids=["0.13.8-resolver", "0.5.11-caused-by", "0.5.11-miette", "no-error"])
def test_error_lines_start_at_uvs_error(text, first, count):
    lines = error_lines(text)
    assert len(lines) == count
    if first:
        assert lines[0].strip() == first
        assert not any(line.startswith("Using Python") for line in lines)


def test_failure_message_is_uvs_error_then_the_command_with_secrets_masked():
    argv = ["/usr/local/bin/uv", "--color", "never", "pip", "install", "--index-url",
            "https://deploy:s3cret@pypi.example.com/simple/", "nosuch"]
    msg = failure_message("uv pip install", argv, 1, "", ERR_0138_RESOLVE)
    assert msg.startswith("error: No solution found when resolving dependencies\n  cause: Because nosuch")
    assert "Using Python" not in msg
    assert msg.rstrip().endswith("nosuch")
    assert "(uv exit 1)" in msg
    assert "s3cret" not in msg and "deploy" not in msg


def test_environment_drops_user_settings_and_keeps_the_system_ones(tmp_path):
    base = {"PATH": "/usr/bin", "HOME": "/home/alice", "UV_INDEX_URL": "http://evil/", "UV_NO_CONFIG": "1",
            "NETRC": "/home/alice/.netrc", "XDG_CONFIG_HOME": "/home/alice/.config",
            "XDG_CONFIG_DIRS": "/etc/xdg", "https_proxy": "http://proxy:3128"}
    env = uv_environment(base, str(tmp_path), "/opt/uv/python", {"UV_PYTHON_DOWNLOADS": "never"})
    assert env["HOME"] == str(tmp_path) and env["XDG_CONFIG_HOME"].startswith(str(tmp_path))
    assert "UV_INDEX_URL" not in env and "UV_NO_CONFIG" not in env and "NETRC" not in env
    assert env["XDG_CONFIG_DIRS"] == "/etc/xdg" and env["https_proxy"] == "http://proxy:3128"
    assert env["UV_PYTHON_INSTALL_DIR"] == "/opt/uv/python" and env["UV_NO_PROGRESS"] == "1"
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert base["HOME"] == "/home/alice"


def test_environment_drops_the_proxy_only_when_asked(tmp_path):
    base = {"PATH": "/usr/bin", "https_proxy": "http://proxy:3128", "HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "x",
            "all_proxy": "socks5://proxy:1080", "UV_HTTP_TIMEOUT": "5"}
    kept = uv_environment(base, str(tmp_path))
    assert kept["https_proxy"] == kept["HTTP_PROXY"] == "http://proxy:3128" and kept["NO_PROXY"] == "x"
    dropped = uv_environment(base, str(tmp_path), use_proxy=False, extra={"UV_PYTHON_BIN_DIR": "/usr/local/bin"})
    assert not any(k.lower().endswith("_proxy") for k in dropped), dropped
    assert dropped["PATH"] == "/usr/bin" and dropped["UV_PYTHON_BIN_DIR"] == "/usr/local/bin"
    assert "UV_HTTP_TIMEOUT" not in dropped


def test_locate_uv_default_is_read_when_called(tmp_path, monkeypatch):
    # A test (or a caller) that moves DEFAULT_INSTALL_DIR moves where the receipt is looked for.
    recorded = tmp_path / "rec"
    recorded.mkdir()
    (recorded / "uv").write_text("#!/bin/sh\n")
    (recorded / "uv").chmod(0o755)
    (recorded / ".pyfleet-uv.json").write_text("{}")
    monkeypatch.setattr(_uv_runner, "DEFAULT_INSTALL_DIR", str(recorded))
    assert locate_uv(None, str(tmp_path / "empty")) == (str(recorded / "uv"), "recorded by uv_install")


def test_locate_uv_order(tmp_path):
    def make(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\n")
        os.chmod(path, 0o755)
        return path

    recorded, on_path, given = str(tmp_path / "rec"), str(tmp_path / "path"), make(str(tmp_path / "given" / "uv"))
    make(os.path.join(on_path, "uv"))
    assert locate_uv(given, on_path, recorded) == (given, "uv_path")
    assert locate_uv(None, on_path, recorded) == (os.path.join(on_path, "uv"), "PATH")
    make(os.path.join(recorded, "uv"))
    assert locate_uv(None, on_path, recorded) == (os.path.join(on_path, "uv"), "PATH")  # no receipt: not recorded
    with open(os.path.join(recorded, ".pyfleet-uv.json"), "w") as handle:
        json.dump({"schema": 2}, handle)
    assert locate_uv(None, on_path, recorded) == (os.path.join(recorded, "uv"), "recorded by uv_install")
    with pytest.raises(UvRunError, match="uv_path /nonexistent/uv is not an executable file"):
        locate_uv("/nonexistent/uv", on_path, recorded)
    with pytest.raises(UvRunError, match="none recorded by uv_install in .* and none on PATH"):
        locate_uv(None, str(tmp_path / "empty"), str(tmp_path / "none"))


@needs_mirror
def test_old_uv_is_refused_by_name(tmp_path):
    uv = real_uv("0.5.11", str(tmp_path / "uvs"))
    runner = UvRunner(Module(), uv, str(tmp_path / "home"))
    with pytest.raises(UvRunError) as exc:
        runner.version()
    assert "uv 0.5.11 (%s) is too old for this module" % uv in exc.value.msg
    assert "needs uv 0.8.0 or newer" in exc.value.msg
    named = UvRunner(Module(), uv, str(tmp_path / "home"), name="uv_python")
    with pytest.raises(UvRunError, match=r"uv 0\.5\.11 \(.*\) is too old for uv_python, which needs uv 0\.8\.0 or newer"):
        named.run(["python", "list"])
    assert named.commands == [[uv, "--version"]]  # refused before anything else runs


@needs_mirror
def test_version_read_once_and_features(tmp_path, monkeypatch):
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    runner = UvRunner(Module(), uv, str(tmp_path / "home"))
    assert runner.version() == (0, 13, 8)
    runner.run(["--version"])
    assert runner.version_string() == "0.13.8"
    assert [c for c in runner.commands if c == [uv, "--version"]] == [[uv, "--version"]]
    monkeypatch.setitem(_uv_runner.FEATURES, "newer_flag", (0, 13, 9))
    assert not runner.supports("newer_flag")
    monkeypatch.setitem(_uv_runner.FEATURES, "newer_flag", (0, 13, 8))
    assert runner.supports("newer_flag")


@needs_mirror
@pytest.mark.parametrize("version", ["0.13.8", "0.13.9"])
def test_system_config_applies_and_the_users_does_not(tmp_path, monkeypatch, version):
    """With the real uv: the system uv.toml (here through XDG_CONFIG_DIRS) is read, the user's
    ~/.config/uv/uv.toml, UV_* and NETRC are not; ``--no-config`` would drop the system file too."""
    uv = real_uv(version, str(tmp_path / "uvs"))
    if uv is None:
        pytest.skip("uv %s is not in the cache" % version)
    wheels = os.path.dirname(venvindex.fetch(("six==1.16.0",))[0])
    system = tmp_path / "etc"
    (system / "uv").mkdir(parents=True)
    (system / "uv" / "uv.toml").write_text('no-index = true\nfind-links = ["%s"]\n' % wheels)
    user = tmp_path / "alice"
    (user / ".config" / "uv").mkdir(parents=True)
    (user / ".config" / "uv" / "uv.toml").write_text('index-url = "http://127.0.0.1:9/user-index/"\nno-index = false\n')
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(system))
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user / ".config"))
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/env-index/")
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    home = tmp_path / "private"
    home.mkdir()
    runner = UvRunner(Module(), uv, str(home), extra_env={"UV_PYTHON_DOWNLOADS": "never"})
    target = tmp_path / "target"
    args = ["pip", "install", "--python", sys.executable, "--target", str(target), "--dry-run", "six==1.16.0"]
    _rc, out, err = runner.run(args)
    assert " + six==1.16.0" in (out + err)
    # --no-config drops the system file too: no find-links, so offline (no public index here) six is not found.
    (tmp_path / "private2").mkdir()
    other = UvRunner(Module(), uv, str(tmp_path / "private2"), extra_env={"UV_PYTHON_DOWNLOADS": "never"})
    rc, out, err = other.run(["--no-config", "--offline"] + args, check=False)
    assert rc != 0 and "six" in err and " + six" not in err


@needs_mirror
def test_failure_quotes_uv_and_the_command(tmp_path):
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    runner = UvRunner(Module(), uv, str(tmp_path / "home"))
    with pytest.raises(UvRunError) as exc:
        runner.run(["pip", "install", "--python", sys.executable, "--target", str(tmp_path / "t"), "--dry-run",
                    "six=>1"], "the dry run")
    msg = exc.value.msg
    assert msg.startswith("error: Failed to parse: `six=>1`\n  cause: no such comparison operator")
    assert "the dry run failed (uv exit 2): %s --color never pip install" % uv in msg
    assert "error: Failed to parse" in exc.value.details["stderr"]


def test_umask_of_the_call(tmp_path):
    runner = UvRunner(Module(), "/bin/sh", str(tmp_path), umask=0o022)
    old = os.umask(0o077)
    try:
        runner.raw(["/bin/sh", "-c", "mkdir -p %s" % (tmp_path / "a" / "b")])
    finally:
        os.umask(old)
    assert oct(os.stat(str(tmp_path / "a" / "b")).st_mode & 0o777) == oct(0o755)


# -- review of issue 29 (third round) ----------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("0.13.8", (0, 13, 8)), ("0.9.0rc1", (0, 9, 0)), ("0.10.0-rc.1", (0, 10, 0)), ("3.14.0rc1", (3, 14, 0)),
    ("0.8.0+dev.5", (0, 8, 0)), ("0.8", None), ("x.y.z", None), ("", None),
])
def test_version_tuple_takes_pre_releases(given, expected):
    assert _uv_runner.version_tuple(given) == expected


def test_index_options_leave_the_command_line():
    secret = "https://deploy:s3cret@idx.example/simple"
    args, env = _uv_runner.index_environment(
        ["pip", "install", "--index-url", secret, "--extra-index-url", "https://a.example/s", "--find-links", "/w",
         "--extra-index-url=https://t0ken@b.example/s", "-f", "https://c.example/l", "--no-index", "six"])
    assert args == ["pip", "install", "--no-index", "six"]
    assert env == {"UV_INDEX_URL": secret, "UV_EXTRA_INDEX_URL": "https://a.example/s https://t0ken@b.example/s",
                   "UV_FIND_LINKS": "/w,https://c.example/l"}
    # What a variable cannot carry stays on the command line when it holds no secret ...
    assert _uv_runner.index_environment(["pip", "install", "-f", "/w,x", "-f", "/v"]) == (
        ["pip", "install", "-f", "/w,x", "-f", "/v"], {})
    # ... and is refused when it does.
    with pytest.raises(UvRunError, match="cannot carry a value holding ','") as exc:
        _uv_runner.index_environment(["pip", "install", "--find-links", "https://u:pw@h.example/a,b"])
    assert "pw" not in str(exc.value)
    assert _uv_runner.index_environment(["pip", "install", "--", "--index-url", secret]) == (
        ["pip", "install", "--", "--index-url", secret], {})


@needs_mirror
@pytest.mark.parametrize("line", ["uv 0.14.0rc1", "uv 0.14.0-rc.1 (abc1234 2026-12-01)"])
def test_a_pre_release_uv_runs(tmp_path, line):
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    spy = tmp_path / "uv"
    spy.write_text('#!/bin/sh\nif [ "$1" = --version ]; then echo "%s"; exit 0; fi\nexec "%s" "$@"\n' % (line, uv))
    spy.chmod(0o755)
    runner = UvRunner(Module(), str(spy), str(tmp_path / "home"))
    assert runner.version() == (0, 14, 0)
    assert runner.run(["self", "version", "--short"])[0] in (0, 2)


@needs_mirror
def test_the_running_uv_gets_no_secret_on_its_command_line(tmp_path):
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    log = tmp_path / "argv.log"
    spy = tmp_path / "uv"
    spy.write_text('#!/bin/sh\ntr "\\0" " " < /proc/$$/cmdline >> "%s"\necho >> "%s"\nenv | grep ^UV_ >> "%s"\n'
                   'exec "%s" "$@"\n' % (log, log, log, uv))
    spy.chmod(0o755)
    runner = UvRunner(Module(), str(spy), str(tmp_path / "home"))
    secret = "http://deploy:s3cret@127.0.0.1:9/simple"
    rc, _out, err = runner.run(["pip", "install", "--dry-run", "--python", sys.executable, "--target", str(tmp_path / "t"),
                                "--index-url", secret, "six"], check=False)
    assert rc != 0 and "127.0.0.1:9" in err  # uv used the index from its environment
    text = log.read_text()
    cmdlines = [line for line in text.splitlines() if "pip install" in line]
    assert cmdlines and "s3cret" not in cmdlines[0] and "--index-url" not in cmdlines[0]
    assert "UV_INDEX_URL=%s" % secret in text
    assert runner.commands[-1][0] == "UV_INDEX_URL=%s" % secret


def test_index_option_leaves_the_command_line():
    # review of issue 29 (fourth round): ``--index`` (uv's newer spelling) stayed on the command line
    secret = "http://erin:IndexOptPw55@idx.example/simple/"
    args, env = _uv_runner.index_environment(["pip", "install", "--index", secret, "--index=internal=https://b.example/s",
                                              "six"])
    assert args == ["pip", "install", "six"]
    assert env == {"UV_INDEX": secret + " internal=https://b.example/s"}


# -- uv's lock files stay out of the shared temporary directory ------------------------------------

@needs_mirror
def test_uvs_lock_files_stay_in_the_private_home(tmp_path, monkeypatch):
    """uv sync (0.13.8) takes a lock ``$TMPDIR/uv-<hash>.lock``, mode 0666: in the shared /tmp any user could
    hold it and block the run. The runner gives uv a private TMPDIR inside its home (removed with it)."""
    uv = real_uv("0.13.8", str(tmp_path / "uvs"))
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setenv("TMPDIR", str(shared))
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.6"\n'
                                            'dependencies = []\n')
    home = tmp_path / "home"
    home.mkdir()
    runner = UvRunner(Module(), uv, str(home), extra_env={"UV_PYTHON_DOWNLOADS": "never"}, cwd=str(project))
    assert runner.env["TMPDIR"] == str(home / "tmp") and (home / "tmp").is_dir()
    runner.run(["sync", "--offline", "--python", sys.executable, "--no-install-project"])
    assert os.listdir(str(shared)) == []
    assert [n for n in os.listdir(str(home / "tmp")) if n.startswith("uv-") and n.endswith(".lock")]


# -- review of uv_venv (round 5): short index options with their value in the same word --------------

@pytest.mark.parametrize("word, var", [
    ("-ihttp://alice:s3cretPW@127.0.0.1:9/simple/", "UV_INDEX_URL"),
    ("-i=http://alice:s3cretPW@127.0.0.1:9/simple/", "UV_INDEX_URL"),
    ("-fhttp://alice:s3cretPW@127.0.0.1:9/links/", "UV_FIND_LINKS"),
    ("-qfhttp://alice:s3cretPW@127.0.0.1:9/links/", "UV_FIND_LINKS"),
    ("--index-url=http://alice:s3cretPW@127.0.0.1:9/simple/", "UV_INDEX_URL"),
])
def test_attached_short_index_options_leave_the_command_line(word, var):
    args, env = _uv_runner.index_environment(["pip", "install", word, "six"])
    assert not any("s3cretPW" in a for a in args)
    assert env[var].endswith("127.0.0.1:9/%s/" % ("simple" if var == "UV_INDEX_URL" else "links"))
    assert "-q" in args if word.startswith("-qf") else args == ["pip", "install", "six"]
    # ``-qi URL``: a cluster of flags whose last one is an index option takes the next word.
    args, env = _uv_runner.index_environment(["pip", "install", "-qi", "http://alice:s3cretPW@h.example/simple/", "six"])
    assert args == ["pip", "install", "-q", "six"] and env == {"UV_INDEX_URL": "http://alice:s3cretPW@h.example/simple/"}


def test_an_option_with_credentials_left_on_the_command_line_is_refused(tmp_path):
    """A backstop: an option word that still carries URL credentials is not run (every user can read argv)."""
    runner = UvRunner(Module(), "/bin/echo", str(tmp_path / "home"))
    runner._version = (0, 13, 8)  # pylint: disable=protected-access  # /bin/echo is no uv
    with pytest.raises(UvRunError, match="--python-install-mirror=") as exc:
        runner.run(["python", "install", "--python-install-mirror=http://alice:s3cretPW@h.example/m/"])
    assert "s3cretPW" not in exc.value.msg and runner.commands == []


@pytest.mark.parametrize("argv", [
    ["pip", "install", "--constraint", "http://carol:PW3cret@h.example/c.txt", "six"],
    ["pip", "install", "-c", "http://carol:PW3cret@h.example/c.txt", "six"],
    ["pip", "install", "http://carol:PW3cret@h.example/six-1.17.0-py2.py3-none-any.whl"],
], ids=["long-option-two-words", "short-option-two-words", "bare-url"])
def test_credentials_in_any_word_are_refused(tmp_path, argv):
    """An option's value in its own word carries credentials as well (review of issue 29: ``--constraint URL``
    reached uv's command line, only ``--constraint=URL`` was refused)."""
    runner = UvRunner(Module(), "/bin/echo", str(tmp_path / "home"))
    runner._version = (0, 13, 8)  # pylint: disable=protected-access  # /bin/echo is no uv
    with pytest.raises(UvRunError, match="URL credentials") as exc:
        runner.run(argv)
    assert "PW3cret" not in exc.value.msg and runner.commands == []
