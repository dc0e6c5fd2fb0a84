#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ty_install
short_description: Install ty, Astral's Python type checker from a mirror or an index, verified and idempotent
version_added: 0.1.0
description:
  - Installs the C(ty) binary of a ty release into O(install_dir), or removes it.
  - The same flow as M(pyfleet.uv.uv_install), with the same options and return values. The
    ty builds that run on the host are listed best first (the gnu build when glibc is new
    enough, then the static musl build) and the first one the source serves is installed, after
    its sha256 was checked and the new C(ty --version) ran on the host and reported the
    wanted version; the old binary is replaced atomically, and stays on any failure.
  - Astral releases ty the way it releases uv - C(ty-<target>.tar.gz) archives holding one
    folder C(ty-<target>/), C(.sha256) sidecars, and wheels C(ty-<version>-py3-none-<tags>.whl)
    on PyPI with the same platform tags - so one mirror or one PyPI proxy serves all three tools.
  - Its gnu builds for x86_64, i686 and aarch64 need glibc 2.17 (its aarch64 wheels are
    C(manylinux_2_17_aarch64); uv's aarch64 build needs 2.28); its musl builds are static and run on
    any Linux of their architecture.
  - C(ty --version) prints only C(ty 1.0.0), without the target; the installed build's target
    comes from the receipt, else from how the binary is linked (static means musl, C(ld-linux) means
    gnu).
  - A pinned version that is already installed is recognised from the host alone (no request);
    one C(stat) of C(ty), compared with the size its receipt recorded, catches a damaged install,
    which is repaired by a reinstall.
  - Records what it installed in its own receipt, C(<install_dir>/.pyfleet-ty.json), with the keys
    of uv_install's receipt, so that uv, ruff and ty can share one O(install_dir).
  - Concurrent runs on one host are serialised by a lock on O(install_dir) itself.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.install
  - pyfleet.uv.source
  - pyfleet.uv.url
  - pyfleet.uv.attributes
  - pyfleet.uv.attributes.actiongroup_uv
attributes:
  check_mode:
    support: full
    description: Computes the plan and reports it; writes nothing. A pinned version needs no network.
  diff_mode:
    support: full
    description: Shows the version and target before and after.
  idempotent:
    support: full
    description: A second run with the same options reports no change.
requirements:
  - Python 3.6 or newer on the managed host.
notes:
  - The collection is named C(pyfleet.uv) after the uv ecosystem it serves; ruff and ty come from the
    same company, ship the same way and run on the same CI hosts, so they are installed by the same
    core rather than by a second collection.
  - To call the module as C(ty_install) without its collection name, list the collection
    in a play's C(collections:) keyword, or set C(collections_path) and use the FQCN.
seealso:
  - module: pyfleet.uv.uv_install
  - module: pyfleet.uv.uv_mirror_check
  - module: pyfleet.uv.uv_facts
"""

EXAMPLES = r"""
- name: Install a pinned ty from the internal mirror that also serves uv
  pyfleet.uv.ty_install:
    version: 1.0.0
    mirror_url: https://mirror.example.com/ty/{version}/

- name: Keep ty at the newest release of a PyPI proxy, within a range
  pyfleet.uv.ty_install:
    version: ">=0.0.110,<2"
    index_url: https://pypi-proxy.example.com/simple/

- name: Hosts without access to the mirror get the file from the controller (downloaded once)
  pyfleet.uv.ty_install:
    version: 1.0.0
    mirror_url: https://mirror.example.com/ty/{version}/
    download_on: controller

- name: One source for uv, ruff and ty
  module_defaults:
    group/pyfleet.uv.uv:
      index_url: https://pypi-proxy.example.com/simple/
      install_dir: /opt/tools/bin
  block:
    - name: Install uv
      pyfleet.uv.uv_install:
        version: latest
    - name: Install ty
      pyfleet.uv.ty_install:
        version: latest

- name: Remove ty
  pyfleet.uv.ty_install:
    state: absent
    install_dir: /opt/tools/bin
"""

RETURN = r"""
msg:
  description:
    - What was done, or would be done in check mode, and why.
    - When a better build was not installed, the message names it and says why it was passed over
      (not served, checksum, or it does not run on this host).
  returned: always
  type: str
  sample: >-
    installed ty 1.0.0 (x86_64-unknown-linux-gnu) in /usr/local/bin, replacing 0.0.115 (ty 0.0.115 is installed, 1.0.0 is wanted)
version:
  description:
    - The ty version installed after the run; the wanted one in check mode.
    - V(null) for V(latest) in check mode before the first install, and for O(state=absent).
  returned: always
  type: str
  sample: 1.0.0
previous_version:
  description: The ty version found in O(install_dir) before the run, or V(null).
  returned: always
  type: str
  sample: 0.0.115
target:
  description: The target triple of the installed (or planned) build.
  returned: when state is present
  type: str
  sample: x86_64-unknown-linux-gnu
artifact:
  description: The file name of the archive (C(ty-<target>.tar.gz)) or wheel installed for that target.
  returned: when state is present
  type: str
  sample: ty-x86_64-unknown-linux-gnu.tar.gz
url:
  description:
    - The URL the file came from (or would come from), without credentials.
    - With O(src), the path of that file on the host.
  returned: when state is present
  type: str
  sample: https://mirror.example.com/ty/1.0.0/ty-x86_64-unknown-linux-gnu.tar.gz
sha256:
  description: The sha256 of the installed archive or wheel, from the receipt when nothing changed.
  returned: when state is present
  type: str
  sample: 0a3f5c1e2b4d6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081
libc:
  description: The host's C library as detected.
  returned: always
  type: dict
  contains:
    family:
      description: V(glibc), V(musl) or V(null).
      type: str
    version:
      description: Its version as printed, or V(null).
      type: str
    detected_by:
      description: The probes that decided.
      type: str
arch:
  description: The architecture as C(uname -m) printed it, or as overridden.
  returned: always
  type: str
  sample: x86_64
binaries:
  description: The path of the installed C(ty) (the removed one for O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [/usr/local/bin/ty]
candidates:
  description: Every target of this architecture, with what was decided about it and why.
  returned: always
  type: list
  elements: dict
  contains:
    target:
      description: The target triple.
      type: str
    decision:
      description: V(taken), V(passed over), V(not tried) or V(excluded).
      type: str
    reason:
      description: 'Why, for example C(gnu: glibc 2.28 >= 2.17; served; runs (ty 1.0.0)).'
      type: str
source:
  description: Where the build came from (or would come from) - V(mirror), V(index) or V(src).
  returned: when state is present
  type: str
  sample: index
arch_detected_by:
  description:
    - How the architecture was decided - V(option) (O(arch)), V(uname), or V(uname+elf:<python>) when
      the ELF header of the Python running the module showed a 32-bit userland on a 64-bit kernel.
  returned: always
  type: str
  sample: uname
download_on:
  description: V(controller) when the file was downloaded on the controller and copied to the host.
  returned: when O(download_on=controller) and the host needed a file
  type: str
  sample: controller
resolved_version:
  description:
    - The exact version a specifier set (or V(latest) with O(download_on=controller)) was resolved to on
      the controller, once for the whole run.
  returned: when the version was resolved on the controller
  type: str
  sample: 1.0.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils.install._tool_install import run_module


def main():
    run_module("ty", AnsibleModule)


if __name__ == "__main__":
    main()
