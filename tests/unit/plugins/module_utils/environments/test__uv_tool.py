# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_uv_tool's pure parts: the receipt reader, request comparison, uv's failure lines, file owners."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.environments import _uv_tool, _uv_tool_receipt
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._uv_tool_installed import packages_on_disk

try:
    import tomllib
except ImportError:  # Python before 3.11
    tomllib = None

# Written by the real uv 0.13.8 (`uv tool install --python /usr/bin/python3 --index-url ... ruff==0.16.10
# --with six`), then by hand with what other receipts carry (extras, markers, URLs, escapes, comments).
RECEIPT_0138 = """[tool]
requirements = [
    { name = "ruff", specifier = "==0.16.10" },
    { name = "six" },
]
python = "/usr/bin/python3"
entrypoints = [
    { name = "ruff", install-path = "/tmp/uvt/bin/ruff", from = "ruff" },
]

[tool.options]
index-url = "http://127.0.0.1:8765/simple/"
"""
RECEIPT_MORE = r"""# a comment
[tool]
requirements = [{ name = "black", extras = ["d", "colorama"], specifier = ">=24, <25", marker = "python_full_version >= '3.9'" },
  { name = "pkg", url = "https://example.com/pkg-1.0-py3-none-any.whl" }]
python = 'C:\literal'
entrypoints = []
note = "tab\there \u00e9 \"quoted\""
flags = [true, false, 3, -1]

[tool.options]
exclude-newer = "2026-01-01T00:00:00Z"

[[tool.options.index]]
url = "https://a.example/simple"
"""


@pytest.mark.parametrize("text", [RECEIPT_0138, RECEIPT_MORE], ids=["uv-0.13.8", "more"])
def test_parse_toml_reads_what_tomllib_reads(text):
    data = _uv_tool.parse_toml(text)
    if tomllib is not None:
        assert data == tomllib.loads(text)
    assert data["tool"]["requirements"][0]["name"] in ("ruff", "black")


@pytest.mark.parametrize("bad", ["[tool\nx = 1", "x = \"open", "x = [1 2]", "x = 1 y"])
def test_parse_toml_names_the_line(bad):
    with pytest.raises(ValueError, match="on line"):
        _uv_tool.parse_toml(bad)


def test_read_receipt(tmp_path):
    assert _uv_tool.read_receipt(str(tmp_path)) is None
    (tmp_path / "uv-receipt.toml").write_text(RECEIPT_0138)
    assert _uv_tool.read_receipt(str(tmp_path))["python"] == "/usr/bin/python3"
    (tmp_path / "uv-receipt.toml").write_text("[tool\n")
    with pytest.raises(_uv_tool.ToolError, match="is not valid TOML .* state=reinstalled"):
        _uv_tool.read_receipt(str(tmp_path))


@pytest.mark.parametrize("request_, entry", [
    ("ruff==0.16.10", {"name": "ruff", "specifier": "==0.16.10"}),
    ("Ruff == 0.16.10", {"name": "ruff", "specifier": "==0.16.10"}),
    ("six", {"name": "six"}),
    ("black[d,colorama] >=24, <25; python_full_version >= '3.9'",
     {"name": "black", "extras": ["colorama", "d"], "specifier": "<25, >=24", "marker": 'python_full_version >= "3.9"'}),
    ("pkg @ https://example.com/pkg.whl", {"name": "pkg", "url": "https://example.com/pkg.whl"}),
    ("Zope.Interface", {"name": "zope-interface"}),
], ids=["pin", "spaces", "bare", "extras-marker", "url", "normalized"])
def test_request_matches_receipt_entry(request_, entry):
    assert _uv_tool.canonical_request(request_) == _uv_tool.canonical_entry(entry)


def test_a_changed_request_does_not_match():
    assert _uv_tool.canonical_request("ruff==0.17.6") != _uv_tool.canonical_entry({"name": "ruff", "specifier": "==0.16.10"})


@pytest.mark.parametrize("bad", ["ruff=>1", "", "ruff 1.0"])
def test_canonical_request_refuses(bad):
    with pytest.raises(_uv_tool.ToolError, match="is not a valid requirement"):
        _uv_tool.canonical_request(bad)


def test_uv_failure_lines():
    # stderr of the real uv 0.13.8.
    one = "Installed 1 package in 9ms\n + ruff==0.16.10\nerror: Executable already exists: ruff (use `--force` to overwrite)\n"
    two = "error: Executables already exist: black, blackd (use `--force` to overwrite)\n"
    assert _uv_tool.collision_names(one) == ["ruff"]
    assert _uv_tool.collision_names(two) == ["black", "blackd"]
    assert _uv_tool.collision_names("error: other") == []
    six = ("Installed 1 package in 9ms\n + six==1.17.0\nNo executables are provided by package `six`; removing tool\n"
           "error: Failed to install entrypoints for `six`\n")
    assert _uv_tool.no_executables_line(six) == "No executables are provided by package `six`; removing tool"
    assert _uv_tool.no_executables_line(one) is None


def test_describe_owner(tmp_path):
    bin_dir, tool_dir = tmp_path / "bin", tmp_path / "tools"
    bin_dir.mkdir()
    (tool_dir / "black" / "bin").mkdir(parents=True)
    (bin_dir / "ruff").write_text("")
    (bin_dir / ".pyfleet-ruff.json").write_text(json.dumps({"schema": 2}))
    assert _uv_tool.describe_owner(str(bin_dir / "ruff"), str(tool_dir)).startswith(
        "placed by pyfleet.uv.ruff_install (its receipt %s" % (bin_dir / ".pyfleet-ruff.json"))
    os.symlink(str(tool_dir / "black" / "bin" / "black"), str(bin_dir / "black"))
    assert _uv_tool.describe_owner(str(bin_dir / "black"), str(tool_dir)).startswith("linked by uv for the tool black")
    os.symlink("/usr/share/thing", str(bin_dir / "thing"))
    assert _uv_tool.describe_owner(str(bin_dir / "thing"), str(tool_dir)).startswith("a symbolic link to /usr/share/thing")
    (bin_dir / "http").write_text("")
    assert _uv_tool.describe_owner(str(bin_dir / "http"), str(tool_dir)).startswith("a file owned by user ")


def test_unusable_by_others(tmp_path):
    private = tmp_path / "private"
    (private / "bin").mkdir(parents=True)
    python = private / "bin" / "python3"
    python.write_text("")
    python.chmod(0o755)
    private.chmod(0o700)
    try:
        assert "is mode 0700: other users cannot enter it" in _uv_tool.unusable_by_others(str(python))
        private.chmod(0o755)
        tmp_path.chmod(0o755)
        assert _uv_tool.unusable_by_others(str(python)) in (None, _uv_tool.unusable_by_others(str(tmp_path)))
        python.chmod(0o750)
        if _uv_tool.unusable_by_others(str(tmp_path / "private")) is None:
            assert "other users cannot run it" in _uv_tool.unusable_by_others(str(python))
    finally:
        private.chmod(0o755)


@pytest.mark.parametrize("given, normal", [
    ("01.0", "1.0"), ("1.0.0", "1.0.0"), ("v1.2", "1.2"), ("1.0-1", "1.0.post1"), ("1.0.post", "1.0.post0"),
    ("1.0alpha1", "1.0a1"), ("1.0.PREVIEW2", "1.0rc2"), ("1.0-dev", "1.0.dev0"), ("0!1.0", "1.0"), ("2!01.0", "2!1.0"),
    ("1.0+Ubuntu-1", "1.0+ubuntu.1"), ("1.*", "1.*"), ("not a version", "not a version"),
])
def test_normalize_version(given, normal):
    assert _uv_tool_receipt.normalize_version(given) == normal


# What the real uv 0.8.0 and 0.13.9 recorded for each request.
@pytest.mark.parametrize("request_, entry", [
    ("pyfleet-hello >= 01.0 ; python_version >= '3.8'",
     {"name": "pyfleet-hello", "marker": "python_full_version >= '3.8'", "specifier": ">=1.0"}),
    ("six @ file:///root/wheels/six-1.17.0-py2.py3-none-any.whl",
     {"name": "six", "path": "/root/wheels/six-1.17.0-py2.py3-none-any.whl"}),
    ("six @ /root/wheels/six-1.17.0-py2.py3-none-any.whl",
     {"name": "six", "path": "/root/wheels/six-1.17.0-py2.py3-none-any.whl"}),
    ('six ; sys_platform == "linux"', {"name": "six", "marker": "sys_platform == 'linux'"}),
], ids=["version-marker", "file-url", "path", "double-quotes"])
def test_request_matches_what_uv_recorded(request_, entry):
    assert _uv_tool.canonical_request(request_) == _uv_tool.canonical_entry(entry)


@pytest.mark.parametrize("one, other, same", [
    ("3.11", "python3.11", True), ("cp311", "cpython@3.11", True), ("cpython3.11", "3.11", True), ("cpython-3.11", "3.11", True),
    ("3.11", "3.12", False), ("pypy@3.10", "3.10", False), ("3.13t", "3.13", False), ("/usr/bin/python3", "3.11", False),
])
def test_canonical_python(one, other, same):
    assert (_uv_tool.canonical_python(one) == _uv_tool.canonical_python(other)) is same


@pytest.mark.parametrize("requirement", ["pkg @ https://user:pw@example.com/pkg.whl",
                                         "pkg @ https://TOKENVALUE@example.com/pkg.whl",
                                         "pkg @ https://example.com/pkg.whl?X-Signature=abcdef"])
def test_credentials_in_a_requirement_are_refused(requirement):
    with pytest.raises(_uv_tool.ToolError, match="carries credentials in its URL") as exc:
        _uv_tool.tool_requests(requirement, [])
    assert "pw@" not in exc.value.msg and "TOKENVALUE" not in exc.value.msg and "abcdef" not in exc.value.msg
    with pytest.raises(_uv_tool.ToolError, match="carries credentials"):
        _uv_tool.tool_requests("ruff", [requirement])


def test_links_packages_and_backup(tmp_path):
    env, bin_dir = tmp_path / "tools" / "t", tmp_path / "bin"
    site = env / "lib" / "python3.12" / "site-packages"
    (site / "Foo_Bar-1.0.dist-info").mkdir(parents=True)
    (site / "Foo_Bar-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.0\n")
    (site / "six-1.17.0.dist-info").mkdir()
    assert packages_on_disk(str(env)) == {  # named as uv pip list names them
        "foo-bar": {"name": "foo-bar", "version": "1.0"}, "six": {"name": "six", "version": "1.17.0"}}
    bin_dir.mkdir()
    os.symlink(str(env / "bin" / "t"), str(bin_dir / "t"))
    (bin_dir / "u").write_text("")
    receipt = {"entrypoints": [{"name": n, "install-path": str(bin_dir / n)} for n in ("t", "u", "v")]}
    assert _uv_tool.link_problems(receipt, str(env)) == ([str(bin_dir / "v")], [str(bin_dir / "u")])
    for move in (False, True):
        backup = _uv_tool.Backup(str(env), str(bin_dir), move)
        assert os.path.exists(str(env)) is not move and not os.path.lexists(str(bin_dir / "t")) is move
        if os.path.exists(str(env)):
            shutil.rmtree(str(env))
        backup.restore()
        assert packages_on_disk(str(env))["six"]["version"] == "1.17.0"
        assert os.readlink(str(bin_dir / "t")) == str(env / "bin" / "t")
        assert sorted(os.listdir(str(tmp_path / "tools"))) == ["t"]


def test_a_restore_without_its_backup_keeps_the_environment(tmp_path):
    env, bin_dir = tmp_path / "tools" / "t", tmp_path / "bin"
    (env / "bin").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    bin_dir.mkdir()
    backup = _uv_tool.Backup(str(env), str(bin_dir), False)
    shutil.rmtree(backup.path)  # what another run did to it
    with pytest.raises(_uv_tool.ToolError, match="could not be put back"):
        backup.restore()
    assert (env / "pyvenv.cfg").read_text() == "home = /usr/bin\n"


# What the real uv 0.13.8 recorded for each python_version marker (tests/unit/plugins/modules/test_uv_tool_repair.py
# installs a few of them again with the real uv).
@pytest.mark.parametrize("marker, recorded", [
    ("python_version ~= '3.9'", "python_full_version >= '3.9' and python_full_version < '4'"),
    ("python_version != '3.9'", "python_full_version != '3.9.*'"),
    ("python_version == '3.11'", "python_full_version == '3.11.*'"),
    ('python_version == "3.*"', "python_full_version >= '3' and python_full_version < '4'"),
    ("python_version in '3.10 3.11'", "python_full_version >= '3.10' and python_full_version < '3.12'"),
    ("python_version in '3.11'", "python_full_version == '3.11.*'"),
    ("python_version not in '2.7'", "python_full_version != '2.7.*'"),
    ("python_version not in '3.9 3.10'", "python_full_version < '3.9' or python_full_version >= '3.11'"),
    ("python_version > '3.8'", "python_full_version >= '3.9'"),
    ("python_version <= '3.20'", "python_full_version < '3.21'"),
    ("'3.9' <= python_version", "python_full_version >= '3.9'"),
    ("sys_platform != 'win32' and python_version >= '3.8'", "python_full_version >= '3.8' and sys_platform != 'win32'"),
    ("python_version < '3.20' and python_version >= '3.8'", "python_full_version >= '3.8' and python_full_version < '3.20'"),
    ("python_full_version == '3.11.*'", "python_full_version == '3.11.*'"),
], ids=["compatible", "not-equal", "equal", "equal-star", "in", "in-one", "not-in", "not-in-two", "greater", "less-equal",
        "reversed", "and-order", "range", "full"])
def test_markers_settle_as_uv_records_them(marker, recorded):
    entry = {"name": "pyfleet-hello", "specifier": "==1.0", "marker": recorded}
    assert _uv_tool.canonical_request("pyfleet-hello==1.0 ; " + marker) == _uv_tool.canonical_entry(entry)
    other = {"name": "pyfleet-hello", "specifier": "==1.0", "marker": "python_full_version >= '3.7'"}
    assert _uv_tool.canonical_request("pyfleet-hello==1.0 ; " + marker) != _uv_tool.canonical_entry(other)


def test_describe_owner_follows_symbolic_links(tmp_path):
    """A tool_dir reached through a symbolic link, and a link to a link into it: both are uv's links."""
    real = tmp_path / "real"
    (real / "tools" / "black" / "bin").mkdir(parents=True)
    (real / "tools" / "black" / "bin" / "black").write_text("")
    os.symlink(str(real), str(tmp_path / "alias"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(str(real / "tools" / "black" / "bin" / "black"), str(bin_dir / "black"))
    assert _uv_tool.describe_owner(str(bin_dir / "black"), str(tmp_path / "alias" / "tools")).startswith(
        "linked by uv for the tool black")
    os.symlink(str(bin_dir / "black"), str(bin_dir / "blk"))
    assert _uv_tool.describe_owner(str(bin_dir / "blk"), str(real / "tools")).startswith("linked by uv for the tool black")


def _tool_env(tmp_path):
    env, bin_dir = tmp_path / "tools" / "t", tmp_path / "bin"
    (env / "bin").mkdir(parents=True)
    for name in ("t", "u"):
        (env / "bin" / name).write_text("#!/bin/sh\n")
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    bin_dir.mkdir()
    os.symlink(str(env / "bin" / "t"), str(bin_dir / "t"))
    return env, bin_dir


def test_a_restore_removes_every_link_the_failed_run_made(tmp_path):
    env, bin_dir = _tool_env(tmp_path)
    for move in (False, True):
        backup = _uv_tool.Backup(str(env), str(bin_dir), move)
        if move:
            (env / "bin").mkdir(parents=True)
        os.symlink(str(env / "bin" / "u"), str(bin_dir / "u"))  # the old environment has it too: not dangling
        os.symlink(str(env / "bin" / "v"), str(bin_dir / "v"))  # only the failed version had it
        backup.restore()
        assert sorted(os.listdir(str(bin_dir))) == ["t"], move
        assert os.readlink(str(bin_dir / "t")) == str(env / "bin" / "t")


def test_a_failed_move_backup_puts_everything_back(tmp_path, monkeypatch):
    env, bin_dir = _tool_env(tmp_path)
    os.symlink(str(env / "bin" / "u"), str(bin_dir / "u"))
    real_unlink = os.unlink
    calls = []

    def unlink(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(1, "Operation not permitted", path)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(_uv_tool.ToolError, match="nothing was changed") as exc:
        _uv_tool.Backup(str(env), str(bin_dir), True)
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert "Operation not permitted" in exc.value.msg
    assert (env / "pyvenv.cfg").exists() and sorted(os.listdir(str(bin_dir))) == ["t", "u"]
    assert os.readlink(str(bin_dir / "t")) == str(env / "bin" / "t")
    assert sorted(os.listdir(str(tmp_path / "tools"))) == ["t"]


def test_tool_facts_show_path_and_url_requirements_masked(tmp_path):
    from ansible_collections.pyfleet.uv.plugins.module_utils.environments import _tool_facts
    env = tmp_path / "pyfleet-hello"
    env.mkdir()
    (env / "uv-receipt.toml").write_text(
        '[tool]\nrequirements = [{ name = "pyfleet-hello", path = "/srv/wheels/pyfleet_hello-1.0-py3-none-any.whl" },\n'
        '  { name = "six", url = "https://deploy:s3cretpw@files.example/six-1.17.0-py2.py3-none-any.whl" },\n'
        '  { name = "local", directory = "/srv/src/local" }]\nentrypoints = []\n')
    facts = _tool_facts.tool_facts(str(env))
    assert facts["requested"] == "pyfleet-hello @ /srv/wheels/pyfleet_hello-1.0-py3-none-any.whl"
    assert facts["with"][0].startswith("six @ https://") and "files.example/six-1.17.0" in facts["with"][0]
    assert "s3cretpw" not in json.dumps(facts) and "deploy" not in json.dumps(facts)
    assert facts["with"][1] == "local @ /srv/src/local"


def test_a_failed_first_install_keeps_tool_dir_with_another_tools_lock(tmp_path):
    """Review of uv_tool, finding 9: another tool's lock there may be held by a run of that tool."""
    top = tmp_path / "tools"
    top.mkdir()
    for name in (".lock", ".gitignore", ".t.pyfleet-lock", ".other.pyfleet-lock"):
        (top / name).write_text("")
    _uv_tool.remove_if_empty(str(top), "t")
    assert top.is_dir()
    (top / ".other.pyfleet-lock").unlink()
    _uv_tool.remove_if_empty(str(top), "t")
    assert not top.exists()


def test_a_link_through_a_linked_tool_dir_leads_into_the_real_one(tmp_path):
    """Review of uv_tool, finding 2."""
    real = tmp_path / "real"
    (real / "t" / "bin").mkdir(parents=True)
    os.symlink(str(real), str(tmp_path / "linked"))
    os.symlink(str(tmp_path / "linked" / "t" / "bin" / "t"), str(tmp_path / "link"))  # dangling: no bin/t
    assert _uv_tool.leads_into(str(tmp_path / "link"), str(real / "t"))
    assert not _uv_tool.leads_into(str(tmp_path / "link"), str(real / "u"))
