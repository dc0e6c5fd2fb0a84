#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: uv_mirror_check
short_description: Check before a rollout that the mirror or index holds the uv build every host needs
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin; nothing runs on the hosts). Reads each host's
    C(ansible_facts.uv) as M(pyfleet.uv.uv_facts) gathered it, and asks the source (O(mirror_url)
    or O(index_url)) about every distinct build the fleet needs, the way
    M(pyfleet.uv.uv_install) would choose it. Each host walks its candidate targets best
    first until one is served.
  - For every build asked about, reports whether it is served, where its sha256 is published
    (a C(.sha256) sidecar, a C(sha256.sum) given by O(checksum), the index, or O(checksum)
    itself) and, with O(verify), whether the download matches. Then per host, the build it
    would get and whether that is a fallback (not its first candidate, for example the musl
    build on a glibc host because the mirror lacks the gnu archive).
  - Each distinct URL is asked once per C(ansible-playbook) run, whatever the number of hosts
    that need it; an archive that is served is asked with one GET whose body is not read
    (with O(verify), the download itself). A host that reaches a served build asks nothing
    about its other candidates.
  - Fails when a host would get no build at all, when a host has no C(ansible_facts.uv) (run
    M(pyfleet.uv.uv_facts) first), when a build some host would take has no published checksum
    (unless O(allow_missing_checksum)) or does not match it (O(verify)), and when an
    explicit O(targets) build is not served. Fallbacks are warnings. RV(ignore:changed) is
    always V(false).
  - The message says what to publish, where, for which version, and which hosts need it, for
    example that C(uv-aarch64-unknown-linux-gnu.tar.gz) of 0.13.8 is not served, 12 hosts need it
    and 3 of them would fall back to C(aarch64-unknown-linux-musl).
  - Needs the Python package C(requests) on the controller.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.source
  - pyfleet.uv.url
  - pyfleet.uv.attributes
  - pyfleet.uv.attributes.actiongroup_uv
attributes:
  check_mode:
    support: full
    description:
      - The module only reads, so it runs the same in check mode. With O(verify) it still
        downloads into the controller cache O(controller_cache_dir); no managed host is touched.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to show.
  idempotent:
    support: full
    description: It never changes anything.
options:
  tool:
    description:
      - Which tool's builds to check - V(uv), V(ruff) or V(ty) - as M(pyfleet.uv.uv_install),
        M(pyfleet.uv.ruff_install) or M(pyfleet.uv.ty_install) would choose them from the same source.
      - For ruff and ty each host's candidates are C(ansible_facts.ruff.targets) or
        C(ansible_facts.ty.targets) from M(pyfleet.uv.uv_facts) (their aarch64 gnu build needs
        glibc 2.17, uv's 2.28).
    type: str
    choices: [uv, ruff, ty]
    default: uv
  hosts:
    description:
      - The inventory hosts to check, by name. Each needs C(ansible_facts.uv) from
        M(pyfleet.uv.uv_facts), gathered earlier in the play; hosts without it are reported and
        fail the task, they are never skipped.
      - Defaults to the hosts of the current batch (C(ansible_play_batch)), that is all the play's hosts that
        have not failed, or in a C(serial) play those of the batch that runs (with C(run_once=true)
        the task runs once per batch, and later batches have gathered no facts yet).
      - Mutually exclusive with O(targets).
    type: list
    elements: str
  targets:
    description:
      - Check these uv target triples instead of hosts, for example
        V([x86_64-unknown-linux-gnu, aarch64-unknown-linux-musl]); no facts are needed.
      - Each one must be served (there is no fallback between them).
      - Mutually exclusive with O(hosts).
    type: list
    elements: str
  verify:
    description:
      - Download each build that some host would get, once, into O(controller_cache_dir), and
        check it against its published sha256. The cache is the one that
        O(pyfleet.uv.uv_install#module:download_on=controller) uses, so a verified check also
        warms it for the rollout.
      - Without it, a served build is asked for with one GET whose body is not read.
      - A build that is already in the cache (verified again there) costs one such GET, to
        know that the source still serves it; one without a published checksum
        (O(allow_missing_checksum)) costs that GET and the download.
    type: bool
    default: false
  controller_cache_dir:
    description:
      - The controller directory of downloaded artifacts (named by their sha256) and of what one
        run has learned from the source, as O(pyfleet.uv.uv_install#module:controller_cache_dir).
      - Defaults to C(pyfleet-uv/artifacts) under C($XDG_CACHE_HOME) (C(~/.cache) when unset).
    type: path
requirements:
  - The Python package C(requests) on the controller.
notes:
  - A member of the C(pyfleet.uv.uv) action group. The options of the group's install modules that
    it has no use for (V(install_dir), V(download_on), V(state), V(libc), V(arch), V(force), V(src))
    are accepted and ignored, so that C(module_defaults) for C(group/pyfleet.uv.uv) fit it.
  - Run it once for the whole fleet, with C(run_once=true) (and C(delegate_to=localhost) so that no
    connection is made); every host of the play must have run M(pyfleet.uv.uv_facts) before.
    Run on every host instead, it repeats the same check on each, although each URL is still
    asked only once per run.
  - On a O(mirror_url), V(latest) stays V(latest) (a release mirror cannot list its versions;
    its C(latest) alias, or the flat folder, decides), and RV(version) says so. On an
    O(index_url), V(latest) and specifier sets are resolved to the exact version.
  - The choice of build is the same as M(pyfleet.uv.uv_install)'s from the same source, except
    that a served build which would not run on the host (for example a gnu build linked
    against a newer glibc than its tag says) is only found out by the install itself.
seealso:
  - module: pyfleet.uv.uv_facts
  - module: pyfleet.uv.uv_install
"""

EXAMPLES = r"""
# In a play over all hosts: gather facts, check once, then roll out.
- name: Gather the facts that decide each host's build
  pyfleet.uv.uv_facts:

- name: Check once, for the whole fleet, that the mirror holds what every host needs
  pyfleet.uv.uv_mirror_check:
    version: 0.13.8
    mirror_url: https://mirror.example.com/uv/{version}/
    verify: true  # download each needed archive once on the controller and check it
  run_once: true
  delegate_to: localhost
  register: uv_check

- name: Roll out from the controller's cache, which the check has filled
  pyfleet.uv.uv_install:
    version: 0.13.8
    mirror_url: https://mirror.example.com/uv/{version}/
    download_on: controller
  become: true

- name: Check explicit builds on a package index, without any facts
  pyfleet.uv.uv_mirror_check:
    version: ">=0.13,<0.14"
    index_url: https://pypi-proxy.example.com/simple/
    targets:
      - x86_64-unknown-linux-gnu
      - aarch64-unknown-linux-gnu
  run_once: true
  delegate_to: localhost

- name: Check the ruff builds on the same index before a ruff rollout
  pyfleet.uv.uv_mirror_check:
    tool: ruff
    version: latest
    index_url: https://pypi-proxy.example.com/simple/
  run_once: true
  delegate_to: localhost

- name: Check some hosts only, and show which of them would fall back
  pyfleet.uv.uv_mirror_check:
    version: 0.13.8
    mirror_url: https://mirror.example.com/uv/{version}/
    hosts: "{{ groups['arm_builders'] }}"
  run_once: true
  delegate_to: localhost
  register: uv_check

- name: Show the hosts that would not get their best build
  ansible.builtin.debug:
    msg: "{{ uv_check.hosts | dict2items | selectattr('value.fallback') | map(attribute='key') | list }}"
  run_once: true
"""

RETURN = r"""
msg:
  description:
    - What the source serves for the fleet and, when something is missing, what to publish,
      for which version, and which hosts need it.
  returned: always
  type: str
  sample: >-
    publish uv-aarch64-unknown-linux-gnu.tar.gz at https://mirror.example.com/uv/0.13.8/uv-aarch64-unknown-linux-gnu.tar.gz
    for 0.13.8 (not served (HTTP 404)): 3 hosts need it (arm1, arm2, arm3); 3 hosts would fall back to
    aarch64-unknown-linux-musl
version:
  description:
    - The version checked, as resolved on the controller (a specifier set or V(latest) on an
      index becomes the exact version; V(latest) on a mirror stays V(latest)).
  returned: when the source answered
  type: str
  sample: 0.13.8
artifacts:
  description: Every build asked about, in the order asked, one per distinct target.
  returned: when the source answered
  type: list
  elements: dict
  contains:
    target:
      description: The target triple.
      type: str
      sample: aarch64-unknown-linux-gnu
    artifact:
      description: The file name (C(uv-<target>.tar.gz), or the wheel), V(null) when the index has none for it.
      type: str
      sample: uv-aarch64-unknown-linux-gnu.tar.gz
    url:
      description: Where it is (or would be) served, without credentials; V(null) when the index has no such wheel.
      type: str
    served:
      description: Whether the source serves it.
      type: bool
    sha256:
      description:
        - The published sha256; with O(verify) and no published checksum (O(allow_missing_checksum)), that of the download.
      type: str
    checksum:
      description: Where the sha256 was published - V(sidecar), V(sha256.sum) (the file O(checksum) names), V(index) or V(option); V(null) when none was found.
      type: str
      sample: sidecar
    verified:
      description: With O(verify), whether the download matches the published sha256; V(null) when not downloaded or nothing to compare.
      type: bool
    hosts:
      description:
        - The hosts that asked about it. For a build that is served, exactly the hosts that would get it;
          for one that is not, the hosts that would have wanted it and went on to their next candidate.
      type: list
      elements: str
    note:
      description: What was found, in words, for example V(served; sha256 from the sidecar).
      type: str
    problem:
      description: Why a host would fail on this build (no published checksum, a mismatch with O(verify)), else V(null).
      type: str
hosts:
  description: Per host, the build it would get.
  returned: when the source answered
  type: dict
  sample:
    arm1:
      target: aarch64-unknown-linux-musl
      fallback: true
      candidates: [aarch64-unknown-linux-gnu, aarch64-unknown-linux-musl]
  contains:
    target:
      description: The target triple the host would get, or V(null) if none of its candidates is served.
      type: str
    fallback:
      description: Whether that is not the host's first candidate.
      type: bool
    candidates:
      description: The host's candidate targets, best first, from C(ansible_facts.uv.targets).
      type: list
      elements: str
missing:
  description:
    - The builds that some host needs as its best candidate (or that O(targets) names) but the source does
      not serve, with the hosts whose best build it is.
  returned: when the source answered
  type: list
  elements: dict
  contains:
    target:
      description: The target triple.
      type: str
    artifact:
      description: Its file name, V(null) when the index has no such wheel.
      type: str
    url:
      description: Where it was looked for, without credentials.
      type: str
    reason:
      description: What the source answered, for example that it is not served and the HTTP status.
      type: str
    hosts:
      description: The hosts whose best build it is.
      type: list
      elements: str
without_facts:
  description: The hosts that have no usable C(ansible_facts.uv) (run M(pyfleet.uv.uv_facts) on them first).
  returned: when the source answered
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import mirror_check_argument_spec


def main():
    # The URL secrets are masked before the argument spec is checked (issue 33).
    module_class = masking_module_class(AnsibleModule, ("mirror_url", "index_url", "checksum", "headers"))
    module = module_class(argument_spec=mirror_check_argument_spec(), supports_check_mode=True,
                          mutually_exclusive=[("mirror_url", "index_url"), ("hosts", "targets")])
    module.fail_json(msg="pyfleet.uv.uv_mirror_check runs on the controller, through its action plugin: call it "
                         "by its full name pyfleet.uv.uv_mirror_check (or through the play's collections "
                         "keyword) from a collection that is installed, not as a module file on a host")


if __name__ == "__main__":
    main()
