# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tools this collection installs, as data: uv, ruff and ty.

Pure: no I/O. Astral releases its Rust tools the same way (cargo-dist archives
``<tool>-<target>.tar.gz`` holding one folder ``<tool>-<target>/``, ``.sha256``
sidecars, PyPI wheels ``<tool>-<version>-py3-none-<tags>.whl`` holding
``<tool>-<version>.data/scripts/<binary>``), so every step of an install (selection,
sources, fetching, unpacking, staging, swapping, receipts, the no-op) reads what
differs from one row of ``TOOLS`` and never asks which tool it is.

Facts checked against the real wheels (pip download --only-binary=:all:, see
tests/utils/uvmirror.py): ``ruff --version`` prints ``ruff 0.17.6`` and ``ty
--version`` prints ``ty 1.0.0`` (no commit, no target: the installed build's target
then comes from the receipt or from how the binary is linked); ruff's and ty's
aarch64 gnu builds are ``manylinux_2_17_aarch64`` (they need glibc 2.17, where
uv's need 2.28); their musl wheels are ``musllinux_1_2_*`` and hold static builds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

__all__ = ["TOOLS", "Tool", "get_tool"]


class Tool(object):
    """One tool: its binaries and how its releases, wheels and ``--version`` look.

    ``binaries``: the files installed, the tool's own first (its ``--version`` tells
    what is installed). ``check``: the staged binary whose ``--version`` is run before
    the swap (uv's ``uvx`` starts the ``uv`` beside it, so one run proves both).
    ``version_names``: the first words ``--version`` may print. ``glibc_floors``: the
    architectures (rows of ``targets.ARCHES``) whose gnu build needs another glibc than
    uv's.
    """

    __slots__ = ("name", "binaries", "check", "version_names", "glibc_floors", "repository")

    def __init__(self, name, binaries, check, version_names, glibc_floors=None):
        self.name = name
        self.binaries = tuple(binaries)
        self.check = check
        self.version_names = tuple(version_names)
        self.glibc_floors = dict(glibc_floors or {})
        self.repository = "astral-sh/%s" % name

    @property
    def receipt(self):
        """The receipt written beside the binaries: ``.pyfleet-<tool>.json``."""
        return ".pyfleet-%s.json" % self.name

    @property
    def staging_prefix(self):
        """The prefix of the private staging folders inside the install directory."""
        return ".pyfleet-%s-stage-" % self.name

    @property
    def module(self):
        """The fully qualified name of the module that installs it."""
        return "pyfleet.uv.%s_install" % self.name

    @property
    def default_mirror(self):
        """The tool's GitHub releases as a ``mirror_url`` template (tags have no ``v``)."""
        return "https://github.com/%s/releases/download/{version}/{artifact}" % self.repository

    @property
    def words(self):
        """The binaries in prose: ``uv and uvx``, ``ruff``."""
        return " and ".join(self.binaries)

    @property
    def are(self):
        """``are`` or ``is``, to agree with ``words``."""
        return "are" if len(self.binaries) > 1 else "is"

    @property
    def swap_order(self):
        """The order of the renames: the tool's own binary last (its ``--version`` is what the next run reads)."""
        return tuple(reversed(self.binaries))

    def archive(self, target):
        """``<tool>-<target>.tar.gz``, the release archive of a target."""
        return "%s-%s.tar.gz" % (self.name, target)

    def folder(self, target):
        """``<tool>-<target>``, the one folder inside a release archive."""
        return "%s-%s" % (self.name, target)

    def __repr__(self):
        return "Tool(%r)" % self.name


TOOLS = {
    # uv 0.10.12 and newer print their target: "uv 0.13.9 (0a1b2c3d4 2026-11-02
    # x86_64-unknown-linux-gnu)"; uvx before 0.6 prints "uv-tool-uvx 0.5.11".
    "uv": Tool("uv", ("uv", "uvx"), "uvx", ("uv", "uvx", "uv-tool-uvx")),
    "ruff": Tool("ruff", ("ruff",), "ruff", ("ruff",), glibc_floors={"aarch64": (2, 17)}),
    "ty": Tool("ty", ("ty",), "ty", ("ty",), glibc_floors={"aarch64": (2, 17)}),
}
UV = TOOLS["uv"]


def get_tool(name):
    """The ``Tool`` row of ``name`` (``uv``, ``ruff``, ``ty``); ``ValueError`` naming the known ones."""
    if isinstance(name, Tool):
        return name
    tool = TOOLS.get(name or "uv")
    if tool is None:
        raise ValueError("tool must be one of %s, got %r" % (", ".join(sorted(TOOLS)), name))
    return tool
