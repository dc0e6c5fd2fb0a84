#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_install
short_description: Install Astral's uv and uvx from a mirror, verified and idempotent
version_added: 0.1.0
description:
  - Installs the C(uv) and C(uvx) binaries of a uv release into O(install_dir), or removes them.
  - Finds out the host's architecture and C library, lists the uv builds that run there
    best first (a gnu build when glibc is new enough for it, then the static musl build),
    and installs the first one the mirror actually serves.
  - Every download is checked against a sha256 (the mirror's C(.sha256) sidecar by
    default) before anything is touched; only the expected regular files are taken from
    the archive; the ELF header of the new C(uv) and C(uvx) (their machine, and static for
    musl or glibc's C(ld-linux) for gnu) must agree with the build the wheel's tags or the
    archive's name claim before they are run; the new C(uvx --version) (uvx starts the new
    uv beside it) must run on the host and report the wanted version before it atomically
    replaces the old binaries. If a served build cannot run here, or is not the build it
    claims to be, the next served build is tried. On any failure the previous install stays
    as it was.
  - Installs from a release mirror (O(mirror_url)) or from the wheels on a PyPI-compatible
    package index (O(index_url)); the host downloads itself, or the controller downloads once
    for the whole fleet and copies the file over (O(download_on=controller)).
  - A pinned version that is already installed is recognised from the host alone, without
    any request to the source. V(latest) costs one small request when nothing changed (the
    checksum sidecar of a mirror, the project page of an index).
  - That no-op also checks, with two C(stat) calls, that C(uv) and C(uvx) are regular,
    non-empty, executable files of the sizes the receipt recorded; anything else (a truncated
    C(uvx), an unreadable receipt) is repaired by a reinstall, with the reason in O(ignore:msg).
    A uv placed by other means (no receipt) whose version matches stays a no-op.
  - Records what it installed in a receipt, C(<install_dir>/.pyfleet-uv.json), with keys
    C(schema), C(source) (V(mirror), V(index) or V(src)), C(version), C(target), C(artifact)
    (the archive or wheel file name), C(url) (without credentials), C(sha256) of the download,
    C(binaries) (the size of each file) and C(installed_at).
  - The installed build's target comes from C(uv --version) (uv 0.10.12 and newer), else the
    receipt, else how the binary is linked (static means musl, C(ld-linux) means gnu).
  - Concurrent runs on one host are serialised by a lock on O(install_dir) itself; the
    decision is taken again under the lock.
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
  - C(uv self update) needs a receipt of uv's own installer; this module writes none, so
    C(uv self update) refuses to run and the fleet's uv versions stay under Ansible's control.
  - The minimum glibc of each gnu build is that of the build (2.17 for x86_64, i686,
    armv7, ppc64le and s390x; 2.28 for aarch64; 2.31 for riscv64). Older uv shell
    installers demanded 2.31 everywhere and fell back to musl on RHEL 8.
  - To call the module as C(uv_install) without its collection name, list the collection
    in a play's C(collections:) keyword, or set C(collections_path) and use the FQCN.
seealso:
  - module: pyfleet.uv.uv_facts
  - module: ansible.builtin.get_url
"""

EXAMPLES = r"""
- name: Install a pinned uv from an internal versioned mirror
  pyfleet.uv.uv_install:
    version: 0.13.8
    mirror_url: https://mirror.example.com/uv/{version}/

- name: Keep the newest uv from a flat mirror that always holds the current archives
  pyfleet.uv.uv_install:
    version: latest
    mirror_url: https://mirror.example.com/uv-current/
    install_dir: /opt/tools/bin

- name: Install from a mirror that needs a token and uses an internal CA
  pyfleet.uv.uv_install:
    version: 0.13.8
    mirror_url: https://artifacts.example.com/github/astral-sh/uv/releases/download/{version}/{artifact}
    headers:
      Authorization: "Bearer {{ vault_artifacts_token }}"
    ca_path: /etc/pki/tls/certs/internal-ca.pem

- name: Verify against the release's sha256.sum instead of per-archive sidecars
  pyfleet.uv.uv_install:
    version: 0.13.8
    mirror_url: https://mirror.example.com/uv/{version}/
    checksum: sha256:https://mirror.example.com/uv/0.13.8/sha256.sum

- name: Install from a PyPI proxy (Artifactory, Nexus, devpi) instead of a release mirror
  pyfleet.uv.uv_install:
    version: ">=0.13,<0.14"
    index_url: https://artifactory.example.com/api/pypi/pypi-remote/simple/
    url_username: "{{ artifactory_user }}"
    url_password: "{{ vault_artifactory_password }}"
  register: uv_result

- name: Hosts without access to the mirror get the file from the controller (downloaded once)
  pyfleet.uv.uv_install:
    version: 0.13.8
    mirror_url: https://mirror.example.com/uv/{version}/
    download_on: controller

- name: Install from a wheel that is already on the host
  pyfleet.uv.uv_install:
    src: /var/cache/uv/uv-0.13.8-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
    checksum: sha256:a9f1...c0de
    version: 0.13.8

- name: Set the source once for every uv_install of the play
  module_defaults:
    group/pyfleet.uv.uv:
      index_url: https://pypi-proxy.example.com/simple/
  block:
    - name: Install uv
      pyfleet.uv.uv_install:
        version: latest

- name: Remove uv
  pyfleet.uv.uv_install:
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
    installed uv 0.13.8 (x86_64-unknown-linux-musl) in /usr/local/bin, replacing 0.5.11;
    passed over x86_64-unknown-linux-gnu: glibc 2.31 >= 2.17; served;
    uv does not run here (exit 1): version `GLIBC_2.34' not found
version:
  description:
    - The uv version installed after the run; the wanted one in check mode.
    - V(null) for V(latest) in check mode before the first install, and for O(state=absent).
  returned: always
  type: str
  sample: 0.13.8
previous_version:
  description: The uv version found in O(install_dir) before the run, or V(null).
  returned: always
  type: str
  sample: 0.5.11
target:
  description: The target triple of the installed (or planned) build.
  returned: when state is present
  type: str
  sample: x86_64-unknown-linux-gnu
artifact:
  description: The file name of the archive (C(uv-<target>.tar.gz)) or wheel installed for that target.
  returned: when state is present
  type: str
  sample: uv-x86_64-unknown-linux-gnu.tar.gz
url:
  description:
    - The URL the file came from (or would come from), without credentials.
    - With O(src), the path of that file on the host.
  returned: when state is present
  type: str
  sample: https://mirror.example.com/uv/0.13.8/uv-x86_64-unknown-linux-gnu.tar.gz
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
  description: Paths of the installed C(uv) and C(uvx) (the removed ones for O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [/usr/local/bin/uv, /usr/local/bin/uvx]
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
      description: 'Why, for example C(gnu: glibc 2.28 >= 2.17; served; runs).'
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
  sample: 0.13.8
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils.install._tool_install import run_module


def main():
    run_module("uv", AnsibleModule)


if __name__ == "__main__":
    main()
