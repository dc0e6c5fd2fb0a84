# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.targets import (
    artifact_name,
    candidate_targets,
    detect_machine,
    explain_candidates,
    normalize_arch,
    supported_machines,
    target_libc,
    userland_machine,
)

X86G, X86M = "x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"
ARMG, ARMM = "aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"
I686G, I686M = "i686-unknown-linux-gnu", "i686-unknown-linux-musl"
V7G, V7M = "armv7-unknown-linux-gnueabihf", "armv7-unknown-linux-musleabihf"
V6M = "arm-unknown-linux-musleabihf"
PPC, S390 = "powerpc64le-unknown-linux-gnu", "s390x-unknown-linux-gnu"
RVG, RVM = "riscv64gc-unknown-linux-gnu", "riscv64gc-unknown-linux-musl"

CASES = [
    # machine, family, version, libc, expected
    ("x86_64", "glibc", "2.36", "auto", [X86G, X86M]),
    ("amd64", "glibc", "2.17", "auto", [X86G, X86M]),  # at the minimum
    ("x86_64", "glibc", "2.16", "auto", [X86M]),  # just below
    ("x86_64", "glibc", "2.12", "auto", [X86M]),  # RHEL 6
    ("x86_64", "glibc", "2.28", "auto", [X86G, X86M]),  # RHEL 8: the reason this project exists
    ("x86_64", "musl", "1.2.4", "auto", [X86M]),
    ("x86_64", None, None, "auto", [X86M]),  # unknown libc: the static build only
    ("x86_64", "glibc", None, "auto", [X86M]),  # glibc of unknown version
    ("x86_64", "glibc", "2.39.9000", "auto", [X86G, X86M]),
    ("aarch64", "glibc", "2.26", "auto", [ARMM]),  # Amazon Linux 2 on Graviton
    ("aarch64", "glibc", "2.27", "auto", [ARMM]),
    ("aarch64", "glibc", "2.28", "auto", [ARMG, ARMM]),
    ("arm64", "glibc", "2.35", "auto", [ARMG, ARMM]),
    ("aarch64", "musl", "1.2.5", "auto", [ARMM]),
    ("i686", "glibc", "2.17", "auto", [I686G, I686M]),
    ("i386", "glibc", "2.16", "auto", [I686M]),
    ("armv7l", "glibc", "2.17", "auto", [V7G, V7M]),
    ("armv8l", "glibc", "2.31", "auto", [V7G, V7M]),
    ("armv7l", "glibc", "2.16", "auto", [V7M]),
    ("armv6l", "glibc", "2.36", "auto", [V6M]),  # no gnu build at all
    ("armv6l", "musl", "1.2.4", "auto", [V6M]),
    ("ppc64le", "glibc", "2.17", "auto", [PPC]),
    ("ppc64le", "glibc", "2.12", "auto", []),  # no musl build: nothing runs
    ("ppc64le", "musl", "1.2.4", "auto", []),
    ("s390x", "glibc", "2.28", "auto", [S390]),
    ("s390x", "glibc", "2.16", "auto", []),
    ("riscv64", "glibc", "2.28", "auto", [RVM]),
    ("riscv64", "glibc", "2.30", "auto", [RVM]),
    ("riscv64", "glibc", "2.31", "auto", [RVG, RVM]),
    # Overrides.
    ("x86_64", "glibc", "2.12", "gnu", [X86G]),
    ("x86_64", "glibc", "2.36", "musl", [X86M]),
    ("x86_64", None, None, "gnu", [X86G]),
    ("armv6l", "glibc", "2.36", "gnu", []),
    ("ppc64le", "glibc", "2.36", "musl", []),
    ("aarch64", "glibc", "2.26", "gnu", [ARMG]),
]


@pytest.mark.parametrize("machine, family, version, libc, expected", CASES,
                         ids=["%s-%s-%s-%s" % c[:4] for c in CASES])
def test_candidate_targets(machine, family, version, libc, expected):
    assert candidate_targets(machine, family, version, libc) == expected


def test_default_libc_is_auto():
    assert candidate_targets("x86_64", "glibc", "2.28") == [X86G, X86M]


@pytest.mark.parametrize("machine", ["sparc64", "mips", "", None, "ppc64", "loongarch64"])
def test_unsupported_machine(machine):
    with pytest.raises(ValueError) as info:
        candidate_targets(machine, "glibc", "2.36")
    message = str(info.value)
    assert "unsupported machine" in message
    for supported in ("x86_64", "aarch64", "armv7l", "armv6l", "ppc64le", "s390x", "riscv64", "i686"):
        assert supported in message


def test_bad_libc_override():
    with pytest.raises(ValueError, match="libc must be one of"):
        candidate_targets("x86_64", "glibc", "2.36", "uclibc")


def test_explanations_say_why():
    verdicts = explain_candidates("aarch64", "glibc", "2.26")
    assert verdicts == [
        (ARMM, True, "musl: static build, runs on any libc"),
        (ARMG, False, "gnu: glibc 2.26 < 2.28"),
    ]
    assert explain_candidates("x86_64", "glibc", "2.28")[0] == (X86G, True, "gnu: glibc 2.28 >= 2.17")


@pytest.mark.parametrize("machine, name", [("X86_64", "x86_64"), ("arm64", "aarch64"), ("i386", "i686"),
                                           ("armv8l", "armv7"), (" riscv64 ", "riscv64")])
def test_normalize_arch(machine, name):
    assert normalize_arch(machine).name == name


def test_artifact_name():
    assert artifact_name(X86G) == "uv-x86_64-unknown-linux-gnu.tar.gz"


@pytest.mark.parametrize("target, libc", [(X86G, "gnu"), (V7G, "gnu"), (V7M, "musl"), (V6M, "musl"),
                                          ("aarch64-apple-darwin", None), (None, None)])
def test_target_libc(target, libc):
    assert target_libc(target) == libc


EM_386, EM_ARM, EM_X86_64, EM_AARCH64 = 3, 40, 62, 183


@pytest.mark.parametrize("machine, elf, expected", [
    # Debian 11 i386 on an x86_64 kernel: uname says x86_64, the Python is ELF32 EM_386.
    ("x86_64", (32, EM_386), ("i686", True)),
    ("amd64", (32, EM_386), ("i686", True)),
    # 32-bit ARM userland (armhf) on an aarch64 kernel takes the armv7 builds.
    ("aarch64", (32, EM_ARM), ("armv8l", True)),
    # Userlands that match their kernel are left alone.
    ("x86_64", (64, EM_X86_64), ("x86_64", False)),
    ("aarch64", (64, EM_AARCH64), ("aarch64", False)),
    ("i686", (32, EM_386), ("i686", False)),
    ("armv7l", (32, EM_ARM), ("armv7l", False)),
    # x32 (ELF32, EM_X86_64): uv has no such build; unknown ELF, unknown machine.
    ("x86_64", (32, EM_X86_64), ("x86_64", False)),
    ("x86_64", None, ("x86_64", False)),
    ("mips64", (32, 8), ("mips64", False)),
], ids=["i386-on-x86_64", "i386-on-amd64", "armhf-on-aarch64", "x86_64", "aarch64", "i686-kernel",
        "armv7-kernel", "x32", "elf-unknown", "unsupported"])
def test_userland_machine(machine, elf, expected):
    assert userland_machine(machine, elf) == expected


def test_detect_machine_i386_userland_on_x86_64_kernel():
    seen = []

    def read_elf(path):
        seen.append(path)
        return (32, EM_386)

    machine, by = detect_machine(uname_machine="x86_64", executable="/usr/bin/python3.9", read_elf=read_elf)
    assert (machine, by) == ("i686", "uname+elf:/usr/bin/python3.9") and seen == ["/usr/bin/python3.9"]
    assert candidate_targets(machine, "glibc", "2.31") == [I686G, I686M]


@pytest.mark.parametrize("arch, uname, elf, expected", [
    ("aarch64", "x86_64", (32, EM_386), ("aarch64", "option")),  # the option always wins
    (None, "x86_64", (64, EM_X86_64), ("x86_64", "uname")),
    (None, "aarch64", (64, EM_AARCH64), ("aarch64", "uname")),
    (None, "x86_64", None, ("x86_64", "uname")),  # unreadable interpreter: uname stands
], ids=["option", "x86_64", "aarch64", "unreadable"])
def test_detect_machine(arch, uname, elf, expected):
    assert detect_machine(arch, uname_machine=uname, executable="/py", read_elf=lambda _path: elf) == expected


def test_detect_machine_this_host():
    import os
    import struct
    machine, by = detect_machine()
    assert by in ("uname", "uname+elf:%s" % __import__("sys").executable)
    if struct.calcsize("P") == 8:
        assert (machine, by) == (os.uname().machine, "uname")


# -- the build an ELF binary is (elf_build, build_disagreement) --------------------------------

import os  # noqa: E402

from ansible_collections.pyfleet.uv.plugins.module_utils.targets import (  # noqa: E402
    build_disagreement,
    elf_build,
)
from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import elf  # noqa: E402


X86_LD, ARM64_LD = "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"


@pytest.mark.parametrize(
    "image, target, disagreement",
    [
        (elf(64, 62, X86_LD), X86G, None),
        (elf(64, 62), X86M, None),
        (elf(64, 62), X86G, "x86_64 (static)"),
        (elf(64, 62, X86_LD), X86M, "x86_64 (interpreter %s)" % X86_LD),
        (elf(64, 183), X86G, "aarch64 (static)"),
        (elf(64, 183, ARM64_LD), X86G, "aarch64 (interpreter %s)" % ARM64_LD),
        (elf(64, 183, ARM64_LD), ARMG, None),
        (elf(64, 183), ARMM, None),
        (elf(64, 183, "/lib/ld-musl-aarch64.so.1"), ARMM, None),  # a dynamic musl build is still musl
        (elf(32, 3, "/lib/ld-linux.so.2"), I686G, None),
        (elf(32, 3), I686M, None),
        (elf(32, 3), X86M, "i386 (static)"),  # a 32-bit build in a 64-bit wheel
        (elf(32, 40, "/lib/ld-linux-armhf.so.3"), V7G, None),
        (elf(32, 40), V7M, None),
        (elf(32, 40), V6M, None),
        (elf(32, 40), ARMM, "arm (static)"),
        (elf(64, 21, "/lib64/ld64.so.2"), PPC, None),
        (elf(64, 22, "/lib/ld64.so.1", order=">"), S390, None),
        (elf(64, 243, "/lib/ld-linux-riscv64-lp64d.so.1"), RVG, None),
        (elf(64, 62, "/opt/weird/loader"), X86G, "x86_64 (interpreter /opt/weird/loader)"),
        (elf(64, 2), X86M, "64-bit ELF machine 2 (static)"),  # SPARC
        (b"#!/bin/sh\necho uv 0.13.8\n", X86G, None),  # not ELF: nothing to read, the run decides
    ],
)
def test_build_disagreement(image, target, disagreement):
    assert build_disagreement(target, image) == disagreement


def test_elf_build():
    assert elf_build(elf(64, 183)) == (("aarch64",), "musl", "aarch64 (static)")
    assert elf_build(elf(32, 40, "/lib/ld-linux-armhf.so.3")) == (
        ("armv7", "armv6"), "gnu", "arm (interpreter /lib/ld-linux-armhf.so.3)")
    assert elf_build(b"\x7fELF") is None and elf_build(b"") is None


# The ELF facts recorded from the uv binaries of real wheels (fixtures/wheels/elf.txt): each
# binary is the build its wheel's tags name (the tags' family by DESIGN's rule).
_WHEEL_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "wheels")
with open(os.path.join(_WHEEL_FIXTURES, "elf.txt")) as _handle:
    _RECORDED_ELF = [line.split() for line in _handle if line.strip() and not line.startswith("#")]
_WHEEL_ARCH_TARGETS = {"x86_64": (X86G, X86M), "aarch64": (ARMG, ARMM), "i686": (I686G, I686M),
                       "armv7l": (V7G, V7M), "armv6l": (None, V6M)}


@pytest.mark.parametrize("name, bits, order, machine, interp", _RECORDED_ELF, ids=[r[0] for r in _RECORDED_ELF])
def test_recorded_uv_binaries_agree_with_their_wheels(name, bits, order, machine, interp):
    platforms = name.split("-")[-1][:-len(".whl")].split(".")
    musl = any(p.startswith("musllinux") or p == "linux_armv6l" for p in platforms)
    arch = next(a for a in _WHEEL_ARCH_TARGETS if any(p.endswith("_" + a) for p in platforms))
    target = _WHEEL_ARCH_TARGETS[arch][1 if musl else 0]
    image = elf(int(bits), int(machine), None if interp == "static" else interp, "<" if order == "little" else ">")
    assert build_disagreement(target, image) is None
    other = _WHEEL_ARCH_TARGETS[arch][0 if musl else 1]
    if other:  # the same binary under the other family's name is refused
        assert build_disagreement(other, image) is not None


@pytest.mark.parametrize("machine", ["i486", "i586", "I586"])
def test_cpus_without_sse2_have_no_build(machine):
    """uv's i686 builds (Rust's i686 targets) need SSE2: an i486 or i586 would die with SIGILL."""
    with pytest.raises(ValueError) as info:
        candidate_targets(machine, "glibc", "2.31")
    msg = str(info.value)
    assert msg.startswith("unsupported machine %r: the i686 builds need SSE2" % machine), msg
    assert "x86_64" in msg and "i686" in msg and "riscv64" in msg
    assert "i586" not in supported_machines() and "i486" not in supported_machines()
