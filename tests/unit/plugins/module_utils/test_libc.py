# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.helpers import host_run

from ansible_collections.pyfleet.uv.plugins.module_utils import libc
from ansible_collections.pyfleet.uv.plugins.module_utils.libc import (
    LibcFacts,
    detect_libc,
    family_from_interpreter,
    parse_confstr,
    parse_elf_interpreter,
    parse_elf_machine,
    parse_ldd_version,
    read_elf_interpreter,
    read_elf_machine,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "ldd")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("centos-7.txt", ("glibc", "2.17")),
        ("rhel-8.txt", ("glibc", "2.28")),
        ("rhel-9.txt", ("glibc", "2.34")),
        ("amazonlinux-2.txt", ("glibc", "2.26")),
        ("ubuntu-20.04.txt", ("glibc", "2.31")),
        ("ubuntu-22.04.txt", ("glibc", "2.35")),
        ("debian-11.txt", ("glibc", "2.31")),
        ("debian-12.txt", ("glibc", "2.36")),
        ("sles-15.txt", ("glibc", "2.31")),
        ("gentoo.txt", ("glibc", "2.39")),
        ("glibc-dev.txt", ("glibc", "2.39.9000")),
        ("alpine-3.12-musl-1.1.24.txt", ("musl", "1.1.24")),
        ("alpine-3.19-musl-1.2.4.txt", ("musl", "1.2.4")),
        ("alpine-aarch64-musl-1.2.5.txt", ("musl", "1.2.5")),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_parse_ldd_version_real_outputs(name, expected):
    assert parse_ldd_version(fixture(name)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "ldd: command not found",
        "/bin/sh: 1: ldd: not found",
        "musl libc (x86_64)\nDynamic Program Loader\n",  # musl without a version line
        "ldd (GNU libc) two.seventeen",
        "Copyright (C) 2012 Free Software Foundation, Inc.\nldd (GNU libc) 2.17",  # version not first
        "ldd 2.17",
    ],
    ids=["empty", "garbage", "not-found", "dash-not-found", "musl-no-version", "words", "not-first", "no-parens"],
)
def test_parse_ldd_version_rejects(text):
    assert parse_ldd_version(text) is None


def test_parse_ldd_version_musl_on_stderr_after_usage():
    # What a combined stdout+stderr capture looks like when stdout is empty.
    assert parse_ldd_version("\n" + fixture("alpine-3.19-musl-1.2.4.txt")) == ("musl", "1.2.4")


@pytest.mark.parametrize(
    "text, expected",
    [("glibc 2.28", ("glibc", "2.28")), ("glibc 2.17\n", ("glibc", "2.17")), ("", None), (None, None),
     ("musl 1.2", None), ("glibc", None)],
)
def test_parse_confstr(text, expected):
    assert parse_confstr(text) == expected


def elf_image(bits, order, interp=b"/lib64/ld-linux-x86-64.so.2", phnum_before=1):
    """A minimal ELF image: header, program headers (a PT_LOAD, then PT_INTERP), string."""
    endian = "<" if order == "little" else ">"
    if bits == 64:
        ehsize, phentsize, phfmt = 64, 56, endian + "IIQQQQQQ"
    else:
        ehsize, phentsize, phfmt = 52, 32, endian + "IIIIIIII"
    phoff = ehsize
    phnum = phnum_before + 1
    interp_off = phoff + phnum * phentsize
    data = interp + b"\x00"
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 1 if order == "little" else 2, 1]) + b"\x00" * 9
    if bits == 64:
        header = ident + struct.pack(endian + "HHIQQQIHHHHHH", 2, 62, 1, 0, phoff, 0, 0, ehsize, phentsize,
                                     phnum, 0, 0, 0)
    else:
        header = ident + struct.pack(endian + "HHIIIIIHHHHHH", 2, 3, 1, 0, phoff, 0, 0, ehsize, phentsize,
                                     phnum, 0, 0, 0)
    phdrs = b""
    for _index in range(phnum_before):
        if bits == 64:
            phdrs += struct.pack(phfmt, 1, 5, 0, 0, 0, 0, 0, 0)
        else:
            phdrs += struct.pack(phfmt, 1, 0, 0, 0, 0, 0, 5, 0)
    if bits == 64:
        phdrs += struct.pack(phfmt, 3, 4, interp_off, 0, 0, len(data), len(data), 1)
    else:
        phdrs += struct.pack(phfmt, 3, interp_off, 0, 0, len(data), len(data), 4, 1)
    return header + phdrs + data


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("order", ["little", "big"])
def test_parse_elf_interpreter_synthetic(bits, order):
    image = elf_image(bits, order, b"/lib/ld-musl-armhf.so.1")
    assert parse_elf_interpreter(image) == "/lib/ld-musl-armhf.so.1"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x7fELF", b"#!/bin/sh\necho hi\n" * 10, b"\x7fELF" + b"\x03" + b"\x00" * 60,
     elf_image(64, "little")[:100]],
    ids=["empty", "magic-only", "script", "bad-class", "truncated"],
)
def test_parse_elf_interpreter_rejects(data):
    assert parse_elf_interpreter(data) is None


def test_parse_elf_interpreter_static_binary_has_none():
    image = elf_image(64, "little")
    # Turn the PT_INTERP header into a second PT_LOAD: a static binary.
    offset = 64 + 56
    patched = image[:offset] + struct.pack("<I", 1) + image[offset + 4:]
    assert parse_elf_interpreter(patched) is None


@pytest.mark.parametrize(
    "path, family",
    [
        ("/lib64/ld-linux-x86-64.so.2", "glibc"),
        ("/lib/ld-linux-aarch64.so.1", "glibc"),
        ("/lib/ld-linux-armhf.so.3", "glibc"),
        ("/lib64/ld64.so.2", "glibc"),  # ppc64le
        ("/lib/ld64.so.1", "glibc"),  # s390x
        ("/lib/ld-linux.so.2", "glibc"),  # i686
        ("/lib/ld-musl-x86_64.so.1", "musl"),
        ("/lib/ld-musl-aarch64.so.1", "musl"),
        ("/system/bin/linker64", None),
        (None, None),
    ],
)
def test_family_from_interpreter(path, family):
    assert family_from_interpreter(path) == family


def test_this_machines_shell_is_glibc():
    """The real /bin/sh of this (Debian) machine, read by the real parser."""
    interp = read_elf_interpreter(os.path.realpath("/bin/sh"))
    assert interp is not None and family_from_interpreter(interp) == "glibc"


def test_read_elf_interpreter_missing_file(tmp_path):
    assert read_elf_interpreter(str(tmp_path / "missing")) is None


@pytest.fixture(scope="module")
def musl_binary(tmp_path_factory):
    """A program linked with musl, built here (Debian's musl-tools) and never committed."""
    musl_gcc = shutil.which("musl-gcc")
    if not musl_gcc:
        pytest.skip("musl-gcc is not installed (apt-get install musl-tools); hacking/suite installs it")
    directory = tmp_path_factory.mktemp("musl")
    source = directory / "hello.c"
    source.write_text('#include <stdio.h>\nint main(void){puts("hi");return 0;}\n')
    binary = directory / "hello"
    subprocess.run([musl_gcc, "-o", str(binary), str(source)], check=True)
    return str(binary)


def test_musl_binary_interpreter_and_loader(musl_binary):
    interp = read_elf_interpreter(musl_binary)
    assert interp is not None and interp.startswith("/lib/ld-musl-")
    assert family_from_interpreter(interp) == "musl"
    parsed = libc.probe_musl_loader(interp, host_run)
    assert parsed is not None and parsed[0] == "musl"
    assert libc.version_tuple(parsed[1]) >= (1, 1)


def test_detect_libc_on_a_musl_host_reads_the_loader(musl_binary):
    """A musl host: no confstr, /bin/sh's interpreter is musl's loader (run for real)."""
    facts = detect_libc(host_run, shell=musl_binary, confstr=lambda: None)
    assert facts.family == "musl"
    assert facts.version and facts.detected_by == "elf:%s+loader" % musl_binary


def test_detect_libc_this_machine():
    """All probes agree on this machine: confstr answers first, ldd says the same."""
    facts = detect_libc(host_run)
    assert facts == LibcFacts("glibc", libc.probe_ldd(host_run)[1], "confstr")


def fake_run(outputs):
    def run(argv):
        key = " ".join(argv)
        if key not in outputs:
            return None, "%s: No such file or directory" % argv[0]
        return outputs[key]
    return run


def test_detect_libc_without_confstr_uses_elf_then_ldd():
    run = fake_run({"ldd --version": (0, fixture("rhel-8.txt"))})
    facts = detect_libc(run, confstr=lambda: None, read_interp=lambda p: "/lib64/ld-linux-x86-64.so.2")
    assert facts == LibcFacts("glibc", "2.28", "elf:/bin/sh+ldd")


def test_missing_ldd_is_not_musl():
    """The official installer's bug: no ldd made it pick musl. Here glibc stays glibc."""
    run = fake_run({"getconf GNU_LIBC_VERSION": (0, "glibc 2.17")})
    facts = detect_libc(run, confstr=lambda: None, read_interp=lambda p: "/lib64/ld-linux-x86-64.so.2")
    assert facts == LibcFacts("glibc", "2.17", "elf:/bin/sh+getconf")


def test_missing_everything_is_unknown_not_musl():
    facts = detect_libc(fake_run({}), confstr=lambda: None, read_interp=lambda p: None)
    assert facts == LibcFacts(None, None, "none")


def test_glibc_interp_without_version_tools():
    facts = detect_libc(fake_run({}), confstr=lambda: None, read_interp=lambda p: "/lib/ld-linux-aarch64.so.1")
    assert facts == LibcFacts("glibc", None, "elf:/bin/sh")


def test_ldd_alone_decides_when_no_elf():
    run = fake_run({"ldd --version": (1, fixture("alpine-3.19-musl-1.2.4.txt"))})
    facts = detect_libc(run, confstr=lambda: None, read_interp=lambda p: None)
    assert facts == LibcFacts("musl", "1.2.4", "ldd")


def test_probe_that_raises_is_ignored():
    def run(argv):
        raise RuntimeError("boom")
    facts = detect_libc(run, confstr=lambda: None, read_interp=lambda p: None)
    assert facts.family is None


# The first 20 bytes of real ELF files (``head -c 20 FILE | xxd -p``): the uv binaries
# of the uv 0.13.8 wheels and Debian 12's /usr/bin/python3.11 (x86_64).
ELF_HEADERS = {
    "uv-i686-musl": "7f454c4601010100000000000000000002000300",  # ELF32, EM_386
    "uv-aarch64-gnu": "7f454c460201010000000000000000000300b700",  # ELF64, EM_AARCH64, PIE
    "python3.11-x86_64": "7f454c4602010100000000000000000002003e00",  # ELF64, EM_X86_64
    "armhf-synthetic": "7f454c4601010100000000000000000002002800",  # ELF32, EM_ARM
    "s390x-big-endian": "7f454c4602020100000000000000000000020016",  # ELF64 MSB, EM_S390
}


@pytest.mark.parametrize("name, expected", [
    ("uv-i686-musl", (32, 3)),
    ("uv-aarch64-gnu", (64, 183)),
    ("python3.11-x86_64", (64, 62)),
    ("armhf-synthetic", (32, 40)),
    ("s390x-big-endian", (64, 22)),
], ids=lambda value: value if isinstance(value, str) else None)
def test_parse_elf_machine_real_headers(name, expected):
    assert parse_elf_machine(bytes.fromhex(ELF_HEADERS[name])) == expected


@pytest.mark.parametrize("data", [
    b"", b"\x7fELF", b"#!/bin/sh\n" + b"x" * 30,
    bytes.fromhex("7f454c4603010100000000000000000002000300"),  # EI_CLASS 3
    bytes.fromhex("7f454c4601030100000000000000000002000300"),  # EI_DATA 3
], ids=["empty", "magic-only", "script", "bad-class", "bad-order"])
def test_parse_elf_machine_rejects(data):
    assert parse_elf_machine(data) is None


def test_read_elf_machine_of_this_python():
    import sys
    bits = struct.calcsize("P") * 8
    found = read_elf_machine(sys.executable)
    assert found is not None and found[0] == bits


@pytest.mark.parametrize("path", ["/nonexistent/python", None, "/"])
def test_read_elf_machine_never_raises(path):
    assert read_elf_machine(path) is None
