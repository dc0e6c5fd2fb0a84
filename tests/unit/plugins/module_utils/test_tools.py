# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tool table and every step that reads it, for each tool (uv, ruff, ty) from one table of cases."""

from __future__ import annotations

import json
import os
import sys
import zipfile

import pytest

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import host_run

from ansible_collections.pyfleet.uv.plugins.module_utils.install._archive import extract, identify
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ArchiveError
from ansible_collections.pyfleet.uv.plugins.module_utils.install._install import (
    has_staging_debris,
    install_staged,
    make_staging_dir,
    remove_install,
    remove_stale_staging,
    verify_staged,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import (
    check_drift,
    installed_state,
    load_receipt,
    parse_version,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.index_pages import IndexPageParser, project_url
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import ReleaseMirror
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import candidate_targets, explain_candidates
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import TOOLS, get_tool
from ansible_collections.pyfleet.uv.plugins.module_utils.wheel_tags import parse_wheel_name, wheel_build

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

T = "x86_64-unknown-linux-gnu"

# What each tool's --version prints, as seen with the real binaries (uv 0.13.9 names its
# target; ruff 0.17.6 and ty 1.0.0 print only their name and version).
CASES = {
    "uv": {"version": "0.13.8", "line": "uv 0.13.8 (0a1b2c3d4 2026-11-02 %s)" % T, "target": T},
    "ruff": {"version": "0.17.6", "line": "ruff 0.17.6", "target": None},
    "ty": {"version": "1.0.0", "line": "ty 1.0.0", "target": None},
}
TOOL_NAMES = sorted(CASES)


def scripts(tool, line=None):
    """``{binary: shell script printing the tool's --version line}`` for every binary of ``tool``."""
    line = line or CASES[tool]["line"]
    return {name: ("#!/bin/sh\necho '%s'\n" % line).encode() for name in TOOLS[tool].binaries}


def test_table():
    assert sorted(TOOLS) == TOOL_NAMES
    assert TOOLS["uv"].binaries == ("uv", "uvx") and TOOLS["uv"].check == "uvx"
    assert TOOLS["ruff"].binaries == ("ruff",) and TOOLS["ty"].binaries == ("ty",)
    assert TOOLS["uv"].receipt == ".pyfleet-uv.json" and TOOLS["uv"].staging_prefix == ".pyfleet-uv-stage-"
    assert TOOLS["ruff"].archive(T) == "ruff-%s.tar.gz" % T and TOOLS["ty"].folder(T) == "ty-%s" % T
    assert TOOLS["ty"].default_mirror == "https://github.com/astral-sh/ty/releases/download/{version}/{artifact}"
    assert TOOLS["uv"].swap_order == ("uvx", "uv")
    with pytest.raises(ValueError, match="uv, ruff|ruff, ty"):
        get_tool("black")


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_parse_version(tool):
    case = CASES[tool]
    assert parse_version(case["line"] + "\n", tool) == {"name": tool, "version": case["version"],
                                                        "target": case["target"]}
    other = [name for name in TOOL_NAMES if name != tool][0]
    assert parse_version(CASES[other]["line"], tool) is None


def test_aarch64_glibc_floors():
    """ruff's and ty's aarch64 gnu builds are manylinux_2_17 wheels; uv's is manylinux_2_28."""
    assert candidate_targets("aarch64", "glibc", "2.27", tool="uv") == ["aarch64-unknown-linux-musl"]
    for tool in ("ruff", "ty"):
        assert candidate_targets("aarch64", "glibc", "2.27", tool=tool) == [
            "aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"]
        assert explain_candidates("aarch64", "glibc", "2.17", tool=tool)[0][2] == "gnu: glibc 2.17 >= 2.17"
    assert candidate_targets("x86_64", "glibc", "2.17", tool="ruff") == candidate_targets("x86_64", "glibc", "2.17")


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_wheel_names(tool):
    version = CASES[tool]["version"]
    name = "%s-%s-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl" % (tool, version)
    assert parse_wheel_name(name, tool) == (version, ["manylinux_2_17_aarch64", "manylinux2014_aarch64"])
    assert parse_wheel_name(name, "uv" if tool != "uv" else "ruff") is None
    assert wheel_build(["musllinux_1_2_x86_64"]) == ("x86_64", "musl")


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_index_page_keeps_the_tools_wheels(tool):
    version = CASES[tool]["version"]
    files = ["%s-%s-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" % (name, CASES[name]["version"])
             for name in TOOL_NAMES] + ["%s-%s-py3-none-musllinux_1_2_x86_64.whl" % (tool, version)]
    page = {"files": [{"filename": f, "url": "../../f/" + f, "hashes": {"sha256": "a" * 64}} for f in files]}
    url = project_url("http://127.0.0.1:1/simple", tool)
    assert url == "http://127.0.0.1:1/simple/%s/" % tool
    parser = IndexPageParser(url, "application/vnd.pypi.simple.v1+json", project=tool)
    parser.feed(json.dumps(page).encode())
    parsed = parser.close()
    assert parsed.selected == version and sorted(parsed.versions) == [version]
    assert parsed.artifact(T).name.startswith("%s-%s-" % (tool, version))
    assert parsed.artifact("x86_64-unknown-linux-musl").name.endswith("musllinux_1_2_x86_64.whl")


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_release_mirror_names(tool):
    artifact = ReleaseMirror("http://127.0.0.1:1/m/{version}/", tool=tool).artifact("1.2.3", T)
    assert artifact.name == "%s-%s.tar.gz" % (tool, T)
    assert artifact.url == "http://127.0.0.1:1/m/1.2.3/%s-%s.tar.gz" % (tool, T)
    assert artifact.checksum_url == artifact.url + ".sha256"


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_archive_and_wheel_round_trip(tool, tmp_path):
    """The tool's release archive and wheel give its binaries; another tool's do not pass for it."""
    members = scripts(tool)
    tgz = str(tmp_path / TOOLS[tool].archive(T))
    uvmirror.make_archive(tgz, T, members, tool=tool)
    stage = tmp_path / "stage"
    stage.mkdir()
    staged = extract(tgz, "tar.gz", T, None, str(stage), tool)
    assert sorted(staged) == sorted(TOOLS[tool].binaries)
    assert identify(tgz, tool) == ("tar.gz", T, None, None)
    version = CASES[tool]["version"]
    wheel = str(tmp_path / ("%s-%s-py3-none-musllinux_1_2_x86_64.whl" % (tool, version)))
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            member = zipfile.ZipInfo("%s-%s.data/scripts/%s" % (tool, version, name))
            member.external_attr = 0o100755 << 16  # a regular file, mode 0755, as maturin writes it
            archive.writestr(member, data)
        archive.writestr("%s-%s.dist-info/WHEEL" % (tool, version), "Wheel-Version: 1.0\nTag: py3-none-musllinux_1_2_x86_64\n")
    stage2 = tmp_path / "stage2"
    stage2.mkdir()
    assert sorted(extract(wheel, "wheel", T, version, str(stage2), tool)) == sorted(TOOLS[tool].binaries)
    assert identify(wheel, tool) == ("wheel", None, version, ("x86_64", "musl"))
    other = [name for name in TOOL_NAMES if name != tool][0]
    with pytest.raises(ArchiveError, match="%s archive" % other):
        extract(tgz, "tar.gz", T, None, str(tmp_path), other)


@pytest.mark.parametrize("tool", TOOL_NAMES)
def test_stage_check_swap_receipt_drift_remove(tool, tmp_path):
    """One tool's whole life in a directory it shares with the others' files."""
    row = TOOLS[tool]
    dest = tmp_path / "bin"
    dest.mkdir()
    (dest / ".pyfleet-someone-else.json").write_text("{}")
    staging = make_staging_dir(str(dest), tool=tool)
    assert os.path.basename(staging).startswith(row.staging_prefix)
    staged = {}
    for name, data in scripts(tool).items():
        staged[name] = os.path.join(staging, name)
        with open(staged[name], "wb") as handle:
            handle.write(data)
        os.chmod(staged[name], 0o755)
    ok, version = verify_staged(staged, CASES[tool]["version"], host_run, T, tool=tool)
    assert ok and version == CASES[tool]["version"]
    wrong, why = verify_staged(staged, "9.9.9", host_run, T, tool=tool)
    assert not wrong and why.startswith("%s reports version %s, not 9.9.9" % (tool, version))
    paths = install_staged(staged, str(dest), receipt={"version": version, "target": T,
                                                       "binaries": {n: {"size": 10} for n in row.binaries}},
                           tool=tool)
    assert paths == [str(dest / name) for name in row.binaries]
    receipt, problem = load_receipt(str(dest), tool)
    assert problem is None and receipt["version"] == version and (dest / row.receipt).exists()
    state = installed_state(paths[0], host_run, "x86_64", tool)
    assert state == {"path": paths[0], "version": version, "target": T}
    assert "is %d bytes, the receipt recorded 10" % os.path.getsize(paths[0]) in check_drift(str(dest), receipt, tool)
    assert remove_stale_staging(str(dest), tool) == [os.path.basename(staging)]
    assert not has_staging_debris(str(dest), tool)
    assert remove_install(str(dest), tool) == paths + [str(dest / row.receipt)]
    assert sorted(os.listdir(str(dest))) == [".pyfleet-someone-else.json"]


@pytest.mark.parametrize("tool", ["ruff", "ty"])
def test_a_binary_that_does_not_run(tool, tmp_path):
    staged = {tool: str(tmp_path / tool)}
    with open(staged[tool], "w") as handle:
        handle.write("#!/bin/sh\necho 'version GLIBC_2.99 not found' >&2\nexit 1\n")
    os.chmod(staged[tool], 0o755)
    ok, why = verify_staged(staged, "1.0.0", host_run, T, tool=tool)
    assert not ok and why == "%s does not run here (exit 1): version GLIBC_2.99 not found" % tool


def _elf64_with_far_program_headers(path, interpreter, phoff):
    """A minimal little-endian ELF64 (x86_64) whose program header table starts at ``phoff``,
    as ty's BOLT-optimised gnu builds have it (their table is about 36 MB into the file)."""
    import struct
    interp = interpreter.encode() + b"\0"
    header = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    header += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, 64, 56, 1, 64, 0, 0)
    body = bytearray(header.ljust(0x300, b"\0"))
    body[0x2e0:0x2e0 + len(interp)] = interp
    body = body.ljust(phoff, b"\0")
    body += struct.pack("<IIQQQQQQ", 3, 4, 0x2e0, 0x2e0, 0x2e0, len(interp), len(interp), 1)  # PT_INTERP
    with open(path, "wb") as handle:
        handle.write(bytes(body))


def test_program_headers_past_the_first_64_kib(tmp_path):
    """ty's gnu build is read as gnu: its interpreter is found where e_phoff says, not only in the head."""
    from ansible_collections.pyfleet.uv.plugins.module_utils.libc import parse_elf_interpreter, read_elf_interpreter
    from ansible_collections.pyfleet.uv.plugins.module_utils.targets import build_disagreement, elf_build
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import elf_target
    path = str(tmp_path / "ty")
    _elf64_with_far_program_headers(path, "/lib64/ld-linux-x86-64.so.2", 200000)
    with open(path, "rb") as handle:
        head = handle.read(65536)
    assert parse_elf_interpreter(head) is None  # the head alone cannot tell
    assert read_elf_interpreter(path) == "/lib64/ld-linux-x86-64.so.2"
    assert elf_build(head, path)[1] == "gnu"
    assert build_disagreement(T, head, path) is None
    assert build_disagreement("x86_64-unknown-linux-musl", head, path) is not None
    assert elf_target(path, "x86_64") == T


def test_mirror_check_reads_the_tools_own_facts():
    """uv_mirror_check tool=ruff takes ansible_facts.ruff.targets (glibc 2.27 aarch64: gnu for ruff, musl for uv)."""
    from ansible_collections.pyfleet.uv.plugins.plugin_utils._mirror_check import fleet_candidates
    uv_targets = candidate_targets("aarch64", "glibc", "2.27")
    ruff_targets = candidate_targets("aarch64", "glibc", "2.27", tool="ruff")
    hostvars = {"old-arm": {"ansible_facts": {"uv": {"targets": uv_targets}, "ruff": {"targets": ruff_targets}}},
                "uv-facts-only": {"ansible_facts": {"uv": {"targets": uv_targets}}}}
    candidates, without = fleet_candidates(hostvars, ["old-arm", "uv-facts-only"], "ruff")
    assert not without
    assert candidates["old-arm"] == ["aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"]
    assert candidates["uv-facts-only"] == ["aarch64-unknown-linux-musl"]  # facts gathered before ruff's: uv's
    assert fleet_candidates(hostvars, ["old-arm"])[0]["old-arm"] == ["aarch64-unknown-linux-musl"]
