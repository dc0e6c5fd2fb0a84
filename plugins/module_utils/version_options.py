# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Version options: the ``version`` option and the argument specs of the source options.

Pure: no I/O; runs on Python 3.6. Shared by the install modules of every tool,
uv_mirror_check and the action plugins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import TOOLS

__all__ = [
    "check_version_option",
    "is_specifier",
    "mirror_check_argument_spec",
    "source_argument_spec",
    "version_key",
]

_PLAIN_VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$")
_EXACT_RE = re.compile(r"^\d+\.\d+\.\d+$")
_SPECIFIER_RE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*[0-9][0-9A-Za-z.*+!_-]*\s*$")


def version_key(version):
    """A sort key for plain X.Y.Z versions; ``None`` for anything else (pre-releases too)."""
    if not _PLAIN_VERSION_RE.match(version or ""):
        return None
    return tuple(int(part) for part in version.split("."))


def is_specifier(version):
    """Whether ``version`` is a PEP 440 specifier set such as ``>=0.13,<0.14``."""
    clauses = (version or "").split(",")
    return bool(version) and all(_SPECIFIER_RE.match(clause) for clause in clauses)


def check_version_option(version, allow_specifier=False, module="pyfleet.uv.uv_install"):
    """Validate the ``version`` option; returns it stripped. Raises ``MirrorError`` saying what to write.

    The module itself takes ``latest`` and exact ``X.Y.Z`` versions; specifier sets are
    resolved on the controller (``allow_specifier`` there) into one of those. ``module``
    is the full name of the module being run, for the message.
    """
    value = (version or "").strip()
    if value == "latest" or _EXACT_RE.match(value):
        return value
    if is_specifier(value):
        if allow_specifier:
            return value
        raise MirrorError(
            "version %r is a specifier set; the action plugin resolves those on the controller, so call "
            "the module by its full name %s (or through the play's collections keyword), "
            "not through a module path, or pin an exact X.Y.Z" % (value, module))
    hint = ""
    bare = value.lstrip("vV")
    if bare != value and _EXACT_RE.match(bare):
        hint = " (write %s, without the leading 'v')" % bare
    raise MirrorError("version must be 'latest', X.Y.Z such as 0.13.8, or a specifier set such as "
                      "'>=0.13,<0.14', got %r%s" % (version, hint))


def source_argument_spec():
    """The argument spec of the source and URL options (doc fragments ``source`` and ``url``)."""
    return dict(
        version=dict(type="str", default="latest"),
        mirror_url=dict(type="str"),
        index_url=dict(type="str"),
        checksum=dict(type="str"),
        allow_missing_checksum=dict(type="bool", default=False),
        timeout=dict(type="int", default=30),
        download_retries=dict(type="int", default=3),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        use_proxy=dict(type="bool", default=True),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        force_basic_auth=dict(type="bool", default=False),
        headers=dict(type="dict", no_log=True),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        http_agent=dict(type="str", default="ansible-httpget"),
    )


def mirror_check_argument_spec():
    """The argument spec of uv_mirror_check: the source options plus the tool and the fleet to check."""
    spec = source_argument_spec()
    spec.update(
        tool=dict(type="str", default="uv", choices=sorted(TOOLS)),
        hosts=dict(type="list", elements="str"),
        targets=dict(type="list", elements="str"),
        verify=dict(type="bool", default=False),
        controller_cache_dir=dict(type="path"),
    )
    return spec
