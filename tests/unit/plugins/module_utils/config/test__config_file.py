# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config file on the host: reading, staging, uv's verdict (real uv), modes, uv's file list."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.config._config_file import (
    ConfigFileError,
    config_paths,
    make_dirs,
    prepare,
    read_current,
    remove_dirs,
    resolve_group,
    resolve_owner,
    stage,
    validate,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunner
from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.real_uv import needs_mirror, real_uv


def test_read_current(tmp_path):
    assert read_current(str(tmp_path / "missing")) == (None, None)
    path = tmp_path / "uv.toml"
    path.write_bytes(b"offline = true\n\xff\n")
    path.chmod(0o640)
    text, info = read_current(str(path))
    assert text == "offline = true\n\ufffd\n" and stat.S_IMODE(info.st_mode) == 0o640
    with pytest.raises(ConfigFileError, match="cannot read .*: Is a directory"):
        read_current(str(tmp_path))


def test_stage_is_private_and_beside(tmp_path):
    staged = stage(str(tmp_path), "offline = true\n")
    assert os.path.dirname(staged) == str(tmp_path)
    assert stat.S_IMODE(os.stat(staged).st_mode) == 0o600
    assert open(staged).read() == "offline = true\n"


def test_stage_in_missing_directory_says_nothing_changed(tmp_path):
    with pytest.raises(ConfigFileError, match="cannot create a file in .*nothing was changed"):
        stage(str(tmp_path / "missing"), "x")


def test_read_current_refuses_a_symbolic_link_without_reading_it(tmp_path):
    target = tmp_path / "target.toml"
    target.write_text("someone-else = true\n")
    (tmp_path / "uv.toml").symlink_to(target)
    with pytest.raises(ConfigFileError, match="uv.toml is a symbolic link.*nothing was changed") as exc:
        read_current(str(tmp_path / "uv.toml"))
    assert "someone-else" not in exc.value.msg and str(target) not in exc.value.msg
    (tmp_path / "dangling.toml").symlink_to(tmp_path / "missing")
    with pytest.raises(ConfigFileError, match="is a symbolic link"):
        read_current(str(tmp_path / "dangling.toml"))


def test_make_dirs_ignores_the_umask_and_can_be_undone(tmp_path):
    old = os.umask(0o077)
    try:
        created = make_dirs(str(tmp_path / "a" / "b" / "c"))
    finally:
        os.umask(old)
    assert created == [str(tmp_path / "a"), str(tmp_path / "a" / "b"), str(tmp_path / "a" / "b" / "c")]
    assert [stat.S_IMODE(os.stat(path).st_mode) for path in created] == [0o755] * 3
    assert make_dirs(str(tmp_path / "a" / "b" / "c")) == []
    remove_dirs(created)
    assert not (tmp_path / "a").exists()


def test_make_dirs_failure_removes_what_it_made(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "file").write_text("")
    with pytest.raises(ConfigFileError, match="cannot create .*nothing was changed"):
        make_dirs(str(tmp_path / "a" / "file" / "b"))
    assert sorted(os.listdir(str(tmp_path / "a"))) == ["file"]


def test_resolve_owner_and_group():
    assert resolve_owner(None) is None and resolve_group(None) is None
    assert resolve_owner("root") == 0 and resolve_group("root") == 0
    assert resolve_owner("4242") == 4242 and resolve_group("4242") == 4242
    with pytest.raises(ConfigFileError, match="owner 'no-such-user-x' does not exist on this host.*nothing was changed"):
        resolve_owner("no-such-user-x")
    with pytest.raises(ConfigFileError, match="group 'no-such-group-x' does not exist on this host"):
        resolve_group("no-such-group-x")


def test_prepare_sets_mode_owner_and_group(tmp_path):
    staged = stage(str(tmp_path), "x")
    old = os.umask(0o077)
    try:
        prepare(staged, 0o644)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(staged).st_mode) == 0o644
    if os.geteuid() == 0:
        prepare(staged, 0o640, 65534, 65534)
        info = os.stat(staged)
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 65534, 65534)


@pytest.mark.parametrize("environ, expected", [
    ({"HOME": "/home/u"}, [("/etc/xdg/uv/uv.toml", "system"), ("/etc/uv/uv.toml", "system"),
                           ("/home/u/.config/uv/uv.toml", "user")]),
    ({"HOME": "/home/u", "XDG_CONFIG_DIRS": "/opt/a:/opt/b", "XDG_CONFIG_HOME": "/cfg"},
     [("/opt/a/uv/uv.toml", "system"), ("/opt/b/uv/uv.toml", "system"), ("/etc/uv/uv.toml", "system"),
      ("/cfg/uv/uv.toml", "user")]),
    ({"HOME": "/home/u", "XDG_CONFIG_DIRS": "/opt/a::/opt/b", "XDG_CONFIG_HOME": "relative"},
     [("/opt/a/uv/uv.toml", "system"), ("/etc/uv/uv.toml", "system"), ("/home/u/.config/uv/uv.toml", "user")]),
    ({"HOME": "/home/u", "XDG_CONFIG_DIRS": ""}, [("/etc/xdg/uv/uv.toml", "system"), ("/etc/uv/uv.toml", "system"),
                                                  ("/home/u/.config/uv/uv.toml", "user")]),
], ids=["defaults", "xdg-set", "empty-entry-stops-relative-home-ignored", "empty-xdg"])
def test_config_paths_follow_uvs_order(environ, expected):
    assert [(e["path"], e["scope"]) for e in config_paths(environ)] == expected


def test_config_paths_mark_the_first_existing_system_file_used(tmp_path):
    for name in ("b", "c"):
        (tmp_path / name / "uv").mkdir(parents=True)
        (tmp_path / name / "uv" / "uv.toml").write_text("")
    paths = config_paths({"HOME": str(tmp_path), "XDG_CONFIG_DIRS": "%s/a:%s/b:%s/c" % ((tmp_path,) * 3)})
    assert [(e["exists"], e["used"]) for e in paths[:3]] == [(False, False), (True, True), (True, False)]


@pytest.fixture(scope="module")
def uv(tmp_path_factory):
    path = real_uv("0.13.8", str(tmp_path_factory.mktemp("uv")))
    if not path:
        pytest.fail("the mirror holds no uv 0.13.8 for this machine")
    return path


class Module(object):
    """What UvRunner needs of an AnsibleModule: ``run_command`` (a real process, in the runner's environment)."""

    def run_command(self, argv, cwd=None, errors=None, handle_exceptions=True):
        proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=dict(os.environ), check=False)
        return proc.returncode, proc.stdout, proc.stderr


def uv_run(uv, home):
    """``run(args)`` as uv_config hands it in: the collection's runner, failures returned, not raised."""
    os.makedirs(str(home), exist_ok=True)
    runner = UvRunner(Module(), uv, str(home), name="uv_config")
    return lambda args: runner.run(args, check=False)


@needs_mirror
def test_validate_accepts_and_passes_warnings_on(uv, tmp_path):
    staged = stage(str(tmp_path), 'native-tls = true\npython-downloads = "manual"\n')
    rc, _out, _err, warnings = validate(uv_run(uv, tmp_path / "home"), staged, "/etc/uv/uv.toml",
                                        str(tmp_path / "cache"))
    assert rc == 0
    assert warnings == ["The `native-tls` setting is deprecated and will be removed in a future release. "
                        "Use `system-certs` instead."]
    assert not (tmp_path / "cache").exists()


@needs_mirror
@pytest.mark.parametrize("text, fragment", [
    ('python-downloads = "sometimes"\n', "unknown variant `sometimes`"),
    ("managed = true\n", "The `managed` field is not allowed in a `uv.toml` file"),
    ("offline = \n", "TOML parse error"),
])
def test_validate_quotes_uv_and_names_the_real_path(uv, tmp_path, text, fragment):
    staged = stage(str(tmp_path), text)
    # The runner runs uv in /: uv shows the file relative to it (tmp/...), and any spelling is replaced.
    rc, out, err, _warnings = validate(uv_run(uv, tmp_path / "home"), staged, "/etc/uv/uv.toml",
                                       str(tmp_path / "cache"))
    error = out + err
    # uv wraps long messages at 80 columns when it does not write to a terminal
    assert rc != 0 and fragment in " ".join(error.split())
    assert "/etc/uv/uv.toml" in error and os.path.basename(staged) not in error
