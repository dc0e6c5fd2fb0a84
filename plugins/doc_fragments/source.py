# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Where builds come from: the options shared by uv_install, ruff_install, ty_install and uv_mirror_check."""

    DOCUMENTATION = r"""
options:
  version:
    description:
      - The version of the tool (uv, ruff or ty), as V(X.Y.Z) (for example V(0.13.8); no leading
        V(v)), V(latest), or a PEP 440 specifier set such as V(>=0.13,<0.14), V(~=0.13.0) or
        V(==0.13.*).
      - V(latest) on an O(index_url) is the highest version with a wheel that is not yanked. On a
        O(mirror_url) it is what the mirror serves as latest (see there).
      - Specifier sets are resolved on the controller (by the action plugin, with C(packaging)),
        against the versions the O(index_url) lists, once per C(ansible-playbook) run and source,
        so that every host of the run gets the same version. A release mirror cannot list its
        versions, so specifiers need O(index_url).
    type: str
    default: latest
  mirror_url:
    description:
      - A mirror laid out like the tool's GitHub releases, as a template. C({version}), C({target})
        and C({artifact}) are replaced (C({artifact}) is C(<tool>-<target>.tar.gz), for example
        C(uv-x86_64-unknown-linux-gnu.tar.gz) or C(ruff-aarch64-unknown-linux-musl.tar.gz)).
      - A template without C({artifact}) is a directory; C(/<artifact>) is appended. So
        V(http://mirror/uv/{version}/) is a versioned mirror and V(http://mirror/uv/) a flat
        one that holds the current archives, like an S3 folder.
      - With O(version=latest), a GitHub-shaped template (C(.../releases/download/{version}/...))
        uses GitHub's C(.../releases/latest/download/...); other templates get the word
        V(latest) in place of C({version}) (keep a C(latest) alias on the mirror), and
        templates without C({version}) are taken to always serve the current release.
      - User info in the URL (C(https://user:pass@host/)) works, but prefer
        O(url_username) and O(url_password); credentials never appear in results.
      - Mutually exclusive with O(index_url). When neither is given, the tool's GitHub releases are used
        (C(https://github.com/astral-sh/<tool>/releases)).
    type: str
  index_url:
    description:
      - A PyPI-compatible simple index (Artifactory, Nexus, devpi, pypiserver, CodeArtifact), as
        its base URL, for example V(https://artifactory.example.com/api/pypi/pypi-remote/simple/).
        The tool's project page is C(<index_url>/<tool>/) (C(uv), C(ruff), C(ty)); the tool is
        installed from its wheels, which hold the same binaries as the release archives.
      - The page is asked for as PEP 691 JSON, with PEP 503 HTML accepted. The wheel for each
        candidate build is chosen by its platform tags (a C(musllinux) tag means the static musl
        build), and the sha256 the index publishes is required unless O(checksum) or
        O(allow_missing_checksum) say otherwise. Yanked releases are skipped by V(latest); an exact
        pin of a yanked release installs with a warning.
      - Mutually exclusive with O(mirror_url).
    type: str
  checksum:
    description:
      - How to verify the download. By default the mirror's C(<archive>.sha256) sidecar
        (C(<hex>  <name>), C(<hex> *<name>), BSD-style C(SHA256 (<name>) = <hex>) or a bare
        hex digest), or the sha256 the index lists for the wheel.
      - V(sha256:<64 hex digits>) checks against that digest.
      - V(sha256:<URL>) reads a checksum file such as a release's C(sha256.sum) and takes
        the line for the chosen file.
    type: str
  allow_missing_checksum:
    description:
      - Install a download that has no published checksum (a warning is issued). Without this,
        a missing sidecar, or an index entry without a sha256, fails the task.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the mirror or index on each connection and read.
    type: int
    default: 30
  download_retries:
    description:
      - How often to retry a request after a connection error, a 5xx answer or a body
        shorter than its Content-Length, with a doubling pause starting at 1 second.
        A full disk is never retried.
    type: int
    default: 3
"""
