# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_config in-process, with the real uv 0.13.8 reading the staged file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.modules import uv_config
from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.real_uv import needs_mirror, real_uv

tomllib = pytest.importorskip("tomllib")
pytestmark = needs_mirror

SECRET = "hunter2-Zq9"
CORP = {"name": "corp", "url": "http://127.0.0.1:9/simple", "default": True}
SETTINGS = {"python-downloads": "manual", "python-install-mirror": "http://127.0.0.1:9/python", "offline": False}


@pytest.fixture(scope="module")
def uv(tmp_path_factory):
    path = real_uv("0.13.8", str(tmp_path_factory.mktemp("uv")))
    if not path:
        pytest.fail("the mirror holds no uv 0.13.8 for this machine")
    return path


@pytest.fixture
def conf(tmp_path, uv, run_module):
    path = tmp_path / "etc" / "uv" / "uv.toml"

    def run(check_mode=False, diff=False, **args):
        args = dict({"path": str(path), "uv_path": uv}, **args)
        return run_module(uv_config.main, args, check_mode=check_mode, diff=diff)
    run.path = path
    return run


WARNED: list = []


@pytest.fixture(autouse=True)
def record_warnings(monkeypatch):
    """Every AnsibleModule.warn() of the test, whatever other tests did to ansible's global warning list."""
    WARNED.clear()
    real = uv_config.AnsibleModule.warn

    def warn(self, warning, *args, **kwargs):
        WARNED.append(warning)
        return real(self, warning, *args, **kwargs)
    monkeypatch.setattr(uv_config.AnsibleModule, "warn", warn)


def warnings(_result):
    """The warning texts the module gave (recorded by ``record_warnings``)."""
    return list(WARNED)


def listing(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else None


def test_check_real_idempotent(conf):
    code, result = conf(check_mode=True, diff=True, settings=SETTINGS, indexes=[CORP])
    assert code == 0 and result["changed"] is True and "would write" in result["msg"]
    assert not conf.path.parent.exists()
    assert result["diff"]["before"] == "" and 'python-downloads = "manual"' in result["diff"]["after"]

    code, result = conf(settings=SETTINGS, indexes=[CORP])
    assert code == 0 and result["changed"] is True, result
    text = conf.path.read_text()
    assert text.startswith("# Managed by pyfleet.uv.uv_config")
    assert tomllib.loads(text) == dict(SETTINGS, index=[CORP])
    assert stat.S_IMODE(conf.path.stat().st_mode) == 0o644
    assert result["settings"] == dict(SETTINGS, index=[CORP])
    assert result["validated_by"]["version"] == "0.13.8"
    assert listing(conf.path.parent) == ["uv.toml"]  # no staged file left

    code, result = conf(check_mode=True, settings=SETTINGS, indexes=[CORP])
    assert result["changed"] is False
    code, result = conf(settings=dict(reversed(list(SETTINGS.items()))), indexes=[CORP])
    assert result["changed"] is False and "up to date" in result["msg"]
    assert conf.path.read_text() == text  # byte-identical


def test_mode_drift_is_a_change(conf):
    conf(settings=SETTINGS)
    conf.path.chmod(0o600)
    _code, result = conf(settings=SETTINGS)
    assert result["changed"] is True and stat.S_IMODE(conf.path.stat().st_mode) == 0o644


def test_hand_edit_is_overwritten_with_diff_and_backup(conf):
    conf(settings=SETTINGS)
    conf.path.write_text(conf.path.read_text() + "offline = true\n")
    _code, result = conf(diff=True, backup=True, settings=SETTINGS)
    assert result["changed"] and "offline = true" in result["diff"]["before"].split("[")[0][-40:]
    assert open(result["backup_file"]).read().endswith("offline = true\n")
    assert "offline = true" not in conf.path.read_text()


@pytest.mark.parametrize("args, fragment", [
    ({"settings": {"python-install-mirrors": "x"}},
     "unknown uv setting 'python-install-mirrors'; did you mean 'python-install-mirror'?"),
    ({"settings": {"concurrent-downloads": "4"}}, "'concurrent-downloads' must be an integer"),
    ({"settings": {"python-downloads": "sometimes"}}, "unknown variant `sometimes`"),
    ({"settings": {"required-version": ">=99"}}, "Required uv version `>=99` does not match"),
    ({"indexes": [{"name": "corp", "url": "http://u:%s@127.0.0.1:9/simple" % SECRET}]},
     "would be written to a file other users can read (mode 0644)"),
], ids=["unknown-key", "wrong-type", "uv-rejects-value", "uv-rejects-required-version", "password-0644"])
def test_refusals_change_nothing(conf, args, fragment):
    conf(settings=SETTINGS)
    before = conf.path.read_bytes()
    code, result = conf(**args)
    assert code == 1 and fragment in " ".join(result["msg"].split()), result["msg"]
    assert conf.path.read_bytes() == before
    assert listing(conf.path.parent) == ["uv.toml"]
    assert SECRET not in json.dumps(result)


def test_uv_rejection_quotes_uv_with_the_real_path(conf):
    code, result = conf(settings={"python-downloads": "sometimes"})
    assert code == 1
    assert "uv 0.13.8 at" in result["msg"] and "rejects the configuration" in result["msg"]
    assert "nothing was changed" in result["msg"] and str(conf.path) in result["msg"]
    assert not conf.path.exists()


def test_uv_rejection_reads_uvs_error_first_then_the_command(conf, uv):
    """Issue 32 item 3: uv's error and cause lines (naming the real path), then the command, then the verdict;
    uv's whole output in stderr."""
    code, result = conf(settings={"python-downloads": "sometimes"})
    assert code == 1
    lines = result["msg"].splitlines()
    # uv wraps a long path onto the next line (pytest-xdist's temporary paths are long)
    head = [i for i, line in enumerate(lines) if line.strip().startswith("cause: TOML parse error")]
    assert lines[0].startswith("error: Failed to parse:") and head, lines
    assert " ".join(line.strip() for line in lines[:head[0]]) == "error: Failed to parse: %s" % conf.path, lines
    command = [i for i, line in enumerate(lines) if line.startswith("reading the new configuration failed (uv exit 2): ")]
    assert command and "%s --color never --config-file " % uv in lines[command[0]], lines
    assert "unknown variant `sometimes`" in " ".join(lines[:command[0]])
    assert lines[-1] == "uv 0.13.8 at %s rejects the configuration for %s, so nothing was changed" % (uv, conf.path)
    assert "unknown variant `sometimes`" in result["stderr"]


def test_uv_older_than_the_floor_is_refused_by_name(tmp_path, run_module):
    old = real_uv("0.5.11", str(tmp_path / "uvs"))
    code, result = run_module(uv_config.main, {"path": str(tmp_path / "uv.toml"), "uv_path": old, "settings": SETTINGS})
    assert code == 0 and result["validated_by"]["version"] == "0.5.11", result["msg"]  # uv_config's floor is its own
    assert (tmp_path / "uv.toml").exists()
    older = tmp_path / "older" / "uv"
    older.parent.mkdir()
    older.write_text('#!/bin/sh\nif [ "$1" = --version ]; then echo "uv 0.5.10"; exit 0; fi\nexec "%s" "$@"\n' % old)
    older.chmod(0o755)
    code, result = run_module(uv_config.main, {"path": str(tmp_path / "other.toml"), "uv_path": str(older), "settings": SETTINGS})
    assert code == 1 and "uv 0.5.10 (%s) is too old for uv_config, which needs uv 0.5.11 or newer" % older in result["msg"]
    assert not (tmp_path / "other.toml").exists()


def test_uv_warnings_become_task_warnings(conf):
    _code, result = conf(settings={"native-tls": True})
    assert any("`native-tls` setting is deprecated" in w and "system-certs" in w for w in warnings(result))


@pytest.mark.parametrize("mode", ["0600", "0640", "u=rw,g=r,o="])
def test_password_with_private_mode_is_written_and_masked(conf, mode):
    url = "http://bob:%s@127.0.0.1:9/simple" % SECRET
    code, result = conf(diff=True, mode=mode, indexes=[{"name": "corp", "url": url}])
    assert code == 0 and result["changed"], result
    assert SECRET in conf.path.read_text()
    assert stat.S_IMODE(conf.path.stat().st_mode) in (0o600, 0o640)
    out = json.dumps(result)
    assert SECRET not in out
    assert result["settings"]["index"][0]["url"] == "http://********@127.0.0.1:9/simple"
    assert "http://********@" in result["diff"]["after"]
    assert any("UV_INDEX_CORP_USERNAME" in w for w in warnings(result))


def _rename_spy(monkeypatch, path, seen):
    """Record the mode of each file renamed onto ``path``, at the moment of the rename."""
    real = os.rename

    def spy(src, dst):
        if dst == str(path):
            seen.append(stat.S_IMODE(os.stat(src).st_mode))
        return real(src, dst)
    monkeypatch.setattr(os, "rename", spy)


def test_password_file_never_world_readable_when_replacing(conf, monkeypatch):
    """A 0644 file is replaced by a 0600 one holding a password: the new bytes never sit at 0644."""
    conf(settings=SETTINGS)
    seen = []
    _rename_spy(monkeypatch, conf.path, seen)
    conf(mode="0600", indexes=[{"name": "corp", "url": "http://bob:%s@127.0.0.1:9/simple" % SECRET}])
    assert seen == [0o600]


def test_new_password_file_never_world_readable(conf, monkeypatch):
    seen = []
    _rename_spy(monkeypatch, conf.path, seen)
    conf(mode="0640", indexes=[{"name": "corp", "url": "http://bob:%s@127.0.0.1:9/simple" % SECRET}])
    assert seen == [0o640]


def test_absent(conf):
    conf(settings=SETTINGS)
    _code, result = conf(check_mode=True, diff=True, state="absent")
    assert result["changed"] and conf.path.exists() and result["diff"]["after"] == ""
    _code, result = conf(state="absent")
    assert result["changed"] and not conf.path.exists() and conf.path.parent.exists()
    _code, result = conf(state="absent")
    assert result["changed"] is False and "is absent" in result["msg"]


def test_without_uv_the_file_is_written_with_a_warning(tmp_path, run_module, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr("ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner.DEFAULT_INSTALL_DIR",
                        str(tmp_path / "empty"))
    path = tmp_path / "uv.toml"
    code, result = run_module(uv_config.main, {"path": str(path), "settings": SETTINGS})
    assert code == 0 and result["changed"] and path.exists()
    assert result["validated_by"] is None
    assert any("not read by uv" in w for w in warnings(result))


def test_read_only_directory_fails_cleanly(conf, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into a 0555 directory; the integration target uses a read-only bind mount")
    conf.path.parent.mkdir(parents=True)
    conf.path.parent.chmod(0o555)
    try:
        code, result = conf(settings=SETTINGS)
    finally:
        conf.path.parent.chmod(0o755)
    assert code == 1 and "cannot create a file in" in result["msg"] and "nothing was changed" in result["msg"]


# -- issue 28 -----------------------------------------------------------------------------------

def test_a_typo_with_a_password_index_masks_the_password(conf):
    """Item 2: the secret is registered before the settings are checked, so the failure's
    invocation (what -vvv and callbacks show) never holds it."""
    url = "http://bob:%s@127.0.0.1:9/simple" % SECRET
    # ansible-core 2.19+ returns the invocation only when asked (INJECT_INVOCATION); older cores always do.
    from ansible.module_utils.common.parameters import PASS_VARS  # pylint: disable=import-outside-toplevel
    ask = {"_ansible_inject_invocation": True} if "inject_invocation" in PASS_VARS else {}
    code, result = conf(mode="0600", settings={"python-install-mirrors": "x"}, indexes=[{"name": "corp", "url": url}],
                        **ask)
    assert code == 1 and "did you mean 'python-install-mirror'" in result["msg"]
    assert "invocation" in result
    assert SECRET not in json.dumps(result), result["invocation"]


def test_a_typo_with_a_password_index_at_vvv(uv, tmp_path):
    """Item 2, as users meet it: a real ansible-playbook -vvv run prints the failed task's
    invocation; the index password is not in anything it prints."""
    tree = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(uv_config.__file__))))))
    secret = "vvv-%s" % SECRET
    (tmp_path / "vars.json").write_text(json.dumps({"secret": secret, "conf": str(tmp_path / "uv.toml"), "uv": uv}))
    (tmp_path / "play.yml").write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - pyfleet.uv.uv_config:
        path: "{{ conf }}"
        uv_path: "{{ uv }}"
        mode: "0600"
        settings: {python-install-mirrors: "http://127.0.0.1:9/python"}
        indexes: [{name: corp, url: "http://bob:{{ secret }}@127.0.0.1:9/simple"}]
""")
    # ansible-core 2.19+ adds the invocation to results only with INJECT_INVOCATION (as AWX-style
    # setups do); older cores always add it. -vvv prints it.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=tree, ANSIBLE_NOCOLOR="1", ANSIBLE_INJECT_INVOCATION="1", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
               ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"))
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i", "localhost,",
                          "-c", "local", "-e", "ansible_python_interpreter=%s" % sys.executable,
                          "-e", "@%s" % (tmp_path / "vars.json"), str(tmp_path / "play.yml")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
    assert out.returncode == 2 and "did you mean 'python-install-mirror'" in out.stdout, out.stdout[-3000:]
    assert "module_args" in out.stdout  # -vvv shows the invocation
    assert secret not in out.stdout


@pytest.mark.parametrize("url, secret, shown", [
    ("http://%s@127.0.0.1:9/simple", "tok3n-AbCdEf", "http://********@127.0.0.1:9/simple"),
    ("http://bob:%s@127.0.0.1:9/simple", "p@ss-w0rd", "http://********@127.0.0.1:9/simple"),
], ids=["token-as-user", "raw-at-in-password"])
def test_every_userinfo_shape_is_a_secret(conf, url, secret, shown):
    """Item 3: a token given as the user, and a password with a raw '@', are masked whole and
    refused in a world-readable file."""
    index = {"name": "corp", "url": url % secret}
    code, result = conf(diff=True, indexes=[index])
    assert code == 1 and "other users can read (mode 0644)" in result["msg"], result
    assert secret not in json.dumps(result)
    assert not conf.path.exists()
    code, result = conf(diff=True, mode="0600", indexes=[index])
    assert code == 0 and result["changed"], result
    assert secret not in json.dumps(result) and secret.split("@")[-1] not in json.dumps(result)
    assert result["settings"]["index"][0]["url"] == shown
    assert shown in result["diff"]["after"]
    assert secret in conf.path.read_text()


def _identity(path):
    info = os.stat(str(path))
    return path.read_bytes(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


@pytest.mark.parametrize("args, fragment", [
    ({"group": "no-such-group-pyfleet"}, "group 'no-such-group-pyfleet' does not exist on this host"),
    ({"owner": "no-such-user-pyfleet"}, "owner 'no-such-user-pyfleet' does not exist on this host"),
], ids=["group", "owner"])
def test_unknown_owner_or_group_fails_before_writing(conf, args, fragment):
    """Item 4: the previous file stays exactly as it was (content, mode, owner, group)."""
    conf(mode="0600", settings=SETTINGS)
    before = _identity(conf.path)
    code, result = conf(mode="0640", settings={"python-downloads": "never"}, **args)
    assert code == 1 and fragment in result["msg"] and "nothing was changed" in result["msg"], result
    assert _identity(conf.path) == before
    assert listing(conf.path.parent) == ["uv.toml"]
    code, result = conf(check_mode=True, settings=SETTINGS, **args)
    assert code == 1 and fragment in result["msg"]


def test_unknown_group_for_a_new_file_creates_nothing(conf):
    code, result = conf(settings=SETTINGS, group="no-such-group-pyfleet")
    assert code == 1 and not conf.path.parent.exists(), result


def test_owner_group_and_mode_are_on_the_file_before_it_is_renamed(conf, monkeypatch):
    """Item 4: the new file has its final owner, group and mode the instant it appears."""
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    conf(settings=SETTINGS)
    seen = []
    real = os.rename

    def spy(src, dst):
        if dst == str(conf.path):
            info = os.stat(src)
            seen.append((stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid))
        return real(src, dst)
    monkeypatch.setattr(os, "rename", spy)
    _code, result = conf(mode="0640", owner="65534", group="65534", settings={"python-downloads": "never"})
    monkeypatch.setattr(os, "rename", real)
    assert result["changed"] and seen == [(0o640, 65534, 65534)], (result, seen)
    info = conf.path.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 65534, 65534)
    _code, result = conf(mode="0640", owner="65534", group="65534", settings={"python-downloads": "never"})
    assert result["changed"] is False, result


@pytest.fixture
def umask027():
    old = os.umask(0o027)
    yield
    os.umask(old)


@pytest.mark.parametrize("mode, expected", [("0644", 0o644), ("0640", 0o640), ("u=rw,g=r,o=r", 0o644)])
def test_under_umask_027_directories_are_0755_and_the_file_gets_mode(conf, umask027, mode, expected):
    """Item 7: hardened hosts set umask 027; uv must still read the file for every user."""
    _code, result = conf(mode=mode, settings=SETTINGS)
    assert result["changed"], result
    assert stat.S_IMODE(conf.path.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(conf.path.parent.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(conf.path.stat().st_mode) == expected


def test_a_rejected_file_creates_no_directory(conf):
    """'nothing was changed' is true: the directory is not made for a file uv rejects."""
    code, result = conf(settings={"python-downloads": "sometimes"})
    assert code == 1 and "nothing was changed" in result["msg"]
    assert not conf.path.parent.parent.exists()


@pytest.mark.parametrize("state", ["present", "absent"])
def test_a_symlinked_path_is_refused_and_its_target_untouched(conf, tmp_path, state):
    """Item 8: the link's target keeps its content and mode, and is never shown."""
    target = tmp_path / "elsewhere.toml"
    target.write_text('# someone else\'s file\nsecret-note = "do-not-show-me"\n')
    target.chmod(0o644)
    conf.path.parent.mkdir(parents=True)
    conf.path.symlink_to(target)
    before = _identity(target)
    code, result = conf(diff=True, mode="0600", settings=SETTINGS, state=state)
    assert code == 1 and "is a symbolic link" in result["msg"], result
    assert "do-not-show-me" not in json.dumps(result)
    assert _identity(target) == before
    assert conf.path.is_symlink() and listing(conf.path.parent) == ["uv.toml"]
