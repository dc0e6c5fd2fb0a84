# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.wheel_tags import (
    expand_tag_set,
    parse_wheel_name,
    target_build,
    wheel_build,
    wheel_metadata_platforms,
)

GNU = "x86_64-unknown-linux-gnu"
AMUSL = "aarch64-unknown-linux-musl"


@pytest.mark.parametrize(
    "tags, build",
    [
        ("manylinux_2_17_x86_64.manylinux2014_x86_64", ("x86_64", "gnu")),
        ("musllinux_1_1_x86_64", ("x86_64", "musl")),
        ("manylinux_2_28_aarch64", ("aarch64", "gnu")),
        ("manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64", ("aarch64", "musl")),
        ("linux_armv6l", ("armv6l", "musl")),
        ("manylinux_2_17_armv7l.manylinux2014_armv7l", ("armv7l", "gnu")),
        ("manylinux_2_31_riscv64", ("riscv64", "gnu")),
        ("manylinux_2_17_ppc64le.manylinux2014_ppc64le", ("ppc64le", "gnu")),
        ("macosx_11_0_arm64", None),
        ("win_amd64", None),
        ("manylinux_2_17_x86_64.manylinux_2_17_i686", None),
    ],
)
def test_wheel_build(tags, build):
    assert wheel_build(tags.split(".")) == build


@pytest.mark.parametrize(
    "target, build",
    [(GNU, ("x86_64", "gnu")), (AMUSL, ("aarch64", "musl")), ("armv7-unknown-linux-gnueabihf", ("armv7l", "gnu")),
     ("arm-unknown-linux-musleabihf", ("armv6l", "musl")), ("powerpc64le-unknown-linux-gnu", ("ppc64le", "gnu")),
     ("riscv64gc-unknown-linux-gnu", ("riscv64", "gnu")), ("i686-unknown-linux-musl", ("i686", "musl"))],
)
def test_target_build_matches_wheel_build(target, build):
    assert target_build(target) == build


def test_parse_wheel_name():
    assert parse_wheel_name("uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl") == ("0.13.9", ["musllinux_1_1_x86_64"])
    assert parse_wheel_name("uv_build-0.13.9-py3-none-any.whl") is None
    assert parse_wheel_name("uv-0.13.9.tar.gz") is None


# -- compressed tag sets ----------------------------------------------------------------
# The wheel spec (and packaging.tags.parse_tag) expand dots in each of the three parts.


@pytest.mark.parametrize(
    "tag_set, tags",
    [
        ("py3-none-musllinux_1_1_x86_64", [("py3", "none", "musllinux_1_1_x86_64")]),
        ("py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64",
         [("py3", "none", "manylinux_2_17_x86_64"), ("py3", "none", "manylinux2014_x86_64")]),
        ("py2.py3-none-any", [("py2", "none", "any"), ("py3", "none", "any")]),
        ("cp311-abi3.none-linux_x86_64", [("cp311", "abi3", "linux_x86_64"), ("cp311", "none", "linux_x86_64")]),
        ("py2.py3-abi3.none-a.b", [("py2", "abi3", "a"), ("py2", "abi3", "b"), ("py2", "none", "a"), ("py2", "none", "b"),
                                   ("py3", "abi3", "a"), ("py3", "abi3", "b"), ("py3", "none", "a"), ("py3", "none", "b")]),
        ("  PY3-None-Manylinux2014_X86_64 ", [("py3", "none", "manylinux2014_x86_64")]),
        ("py3-none-linux_armv6l.linux_armv6l", [("py3", "none", "linux_armv6l")]),
        ("py3-none", []),
        ("py3-none-any-extra", []),
        ("py3-none-a..b", []),
        ("py3--any", []),
        ("", []),
        (None, []),
    ],
    ids=["one", "two-platforms", "two-interpreters", "two-abis", "all-three", "case-and-space", "duplicate",
         "two-parts", "four-parts", "empty-platform", "empty-abi", "empty", "none"],
)
def test_expand_tag_set(tag_set, tags):
    assert expand_tag_set(tag_set) == tags


def test_expand_tag_set_is_packagings_parse_tag():
    """Same set as pypa/packaging's parse_tag (installed with ansible-core on the controller)."""
    tags = pytest.importorskip("packaging.tags")
    for tag_set in ("py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
                    "py2.py3-abi3.none-manylinux1_x86_64.linux_x86_64", "py3-none-any"):
        assert set(expand_tag_set(tag_set)) == {(t.interpreter, t.abi, t.platform) for t in tags.parse_tag(tag_set)}


@pytest.mark.parametrize(
    "filename, parsed",
    [
        ("uv-0.5.11-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         ("0.5.11", ["manylinux_2_17_x86_64", "manylinux2014_x86_64"])),
        ("uv-0.5.11-1-py3-none-musllinux_1_1_x86_64.whl", ("0.5.11", ["musllinux_1_1_x86_64"])),
        ("uv-0.5.11-py2.py3-none-linux_armv6l.whl", ("0.5.11", ["linux_armv6l"])),
        ("uv-0.5.11-py3-abi3.none-manylinux_2_28_aarch64.whl", ("0.5.11", ["manylinux_2_28_aarch64"])),
        ("uv-0.5.11-cp312-cp312-manylinux_2_28_aarch64.whl", None),
        ("uv-0.5.11-py3-none.whl", None),
    ],
    ids=["compressed-platform", "build-tag", "compressed-interpreter", "compressed-abi", "not-py3-none", "two-parts"],
)
def test_parse_wheel_name_expands_compressed_tags(filename, parsed):
    assert parse_wheel_name(filename) == parsed


def test_wheel_metadata_platforms():
    compressed = "Wheel-Version: 1.0\nGenerator: maturin (1.7.4)\nRoot-Is-Purelib: false\n" \
                 "Tag: py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64\n"
    assert wheel_metadata_platforms(compressed) == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    one_per_line = "Wheel-Version: 1.0\r\ntag: py3-none-manylinux_2_17_aarch64\r\nTag:py3-none-musllinux_1_1_aarch64\r\n"
    assert wheel_metadata_platforms(one_per_line) == ["manylinux_2_17_aarch64", "musllinux_1_1_aarch64"]
    assert wheel_metadata_platforms("Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_28_aarch64\n") == []
    assert wheel_metadata_platforms("Generator: Tag: py3-none-any\n") == []
    assert wheel_metadata_platforms("") == []


# -- recorded wheels of real uv releases (fixtures/wheels/SOURCES.md) --------------------------

WHEEL_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "wheels")
# e_machine of the recorded uv binaries -> the architecture in wheel tags (EM_ARM is both
# ARM wheels; the tags tell armv6l from armv7l).
_EM_WHEEL_ARCH = {62: ("x86_64",), 183: ("aarch64",), 3: ("i686",), 40: ("armv7l", "armv6l")}


def _recorded_wheels():
    with open(os.path.join(WHEEL_FIXTURES, "elf.txt")) as handle:
        facts = dict(line.rstrip("\n").split(" ", 1) for line in handle if line.strip() and not line.startswith("#"))
    names = sorted(n[:-len(".WHEEL")] for n in os.listdir(WHEEL_FIXTURES) if n.endswith(".whl.WHEEL"))
    assert sorted(facts) == names, "elf.txt and the .WHEEL files must name the same wheels"
    return [(name, facts[name]) for name in names]


RECORDED_WHEELS = _recorded_wheels()


@pytest.mark.parametrize("name, elf", RECORDED_WHEELS, ids=[n for n, _e in RECORDED_WHEELS])
def test_recorded_wheel_name_and_metadata_give_the_build_of_its_uv(name, elf):
    """File name, WHEEL tags and the uv binary inside (its recorded ELF header) tell one build.

    The expected family follows DESIGN's rule, from the name alone: any musllinux tag or
    linux_armv6l means the static musl build; and the binary agrees (static = musl, glibc's
    ld-linux* = gnu).
    """
    with open(os.path.join(WHEEL_FIXTURES, name + ".WHEEL")) as handle:
        metadata = handle.read()
    _bits, _order, machine, interpreter = elf.split(" ")
    platforms = name.split("-")[-1][:-len(".whl")].split(".")
    family = "musl" if any(p.startswith("musllinux") or p == "linux_armv6l" for p in platforms) else "gnu"
    assert family == ("musl" if interpreter == "static" else "gnu" if "/ld-linux" in interpreter else None)
    assert parse_wheel_name(name)[1] == wheel_metadata_platforms(metadata) == platforms
    by_name = wheel_build(parse_wheel_name(name)[1])
    by_metadata = wheel_build(wheel_metadata_platforms(metadata))
    assert by_name == by_metadata
    assert by_name[1] == family and by_name[0] in _EM_WHEEL_ARCH[int(machine)]


def test_recorded_wheels_cover_both_tag_styles_and_the_range():
    versions = set()
    compressed = per_line = 0
    for name, _elf in RECORDED_WHEELS:
        versions.add(tuple(int(x) for x in name.split("-")[1].split(".")))
        with open(os.path.join(WHEEL_FIXTURES, name + ".WHEEL")) as handle:
            lines = [line for line in handle.read().splitlines() if line.startswith("Tag:")]
        if "." in name.split("-")[-1][:-len(".whl")]:
            if len(lines) == 1:
                compressed += 1
            else:
                per_line += 1
    assert compressed and per_line
    assert min(versions) < (0, 2) and max(versions) >= (0, 13) and len(versions) >= 6
