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
options:
  state:
    description:
      - V(present) installs O(version); V(absent) removes C(uv), C(uvx) and the receipt from O(install_dir).
    type: str
    choices: [present, absent]
    default: present
  install_dir:
    description:
      - Directory for C(uv), C(uvx) and the receipt, as an absolute path. Created (mode 0755) when
        missing.
      - The default C(/usr/local/bin) needs root, so run the task with C(become=true), or choose a
        directory the remote user owns.
    type: path
    default: /usr/local/bin
  libc:
    description:
      - Which builds to consider. V(auto) decides from the host's libc; V(gnu) or V(musl)
        force that family (an installed build of the other family is then replaced).
    type: str
    choices: [auto, gnu, musl]
    default: auto
  arch:
    description:
      - Override the architecture, as C(uname -m) would print it (V(x86_64), V(aarch64),
        V(armv7l), ...). By default the host's own is used.
    type: str
  force:
    description:
      - Download and install even if the wanted version is already installed.
    type: bool
    default: false
  download_on:
    description:
      - V(host) (the default) lets each host download from the source itself.
      - V(controller) downloads each needed artifact once, on the controller, into
        O(controller_cache_dir), and copies it to the hosts with Ansible's own file transfer, for
        hosts that cannot reach the source, and to pull each artifact once for the whole fleet.
        Each host first plans from its own state (no network); only hosts that need an install
        get a file. Needs the Python package C(requests) on the controller.
    type: str
    choices: [host, controller]
    default: host
  controller_cache_dir:
    description:
      - With O(download_on=controller), the controller directory that keeps downloaded artifacts,
        named by their sha256 and verified again before each use; shared by all forks under a lock.
      - Defaults to C(pyfleet-uv/artifacts) under C($XDG_CACHE_HOME) (C(~/.cache) when unset).
    type: path
  src:
    description:
      - Install from a uv release archive (C(uv-<target>.tar.gz)) or a uv wheel already on the host,
        instead of downloading. Its build is read from the file itself (an archive's folder
        C(uv-<target>/); a wheel's C(.dist-info/WHEEL) tags, compressed tag sets expanded, which
        must agree with its file name when that is a uv wheel name) and must run on the host.
      - Needs O(checksum=sha256:<hex>) unless O(allow_missing_checksum=true).
      - The action plugin uses this for O(download_on=controller).
    type: path
  src_origin:
    description:
      - Where O(src) was downloaded from, as C(source) (V(mirror) or V(index)) and C(url); recorded
        in the receipt and the results instead of the path of O(src).
      - Set by the action plugin with O(download_on=controller); there is no need to set it by hand.
    type: dict
  plan_only:
    description:
      - Decide from the host alone and return the plan without installing anything.
      - Set by the action plugin as the first step of O(download_on=controller); there is no need to set
        it by hand. With O(download_on=controller) and no O(src), the module refuses to run without it,
        which happens when it is called without its action plugin (through a module path).
    type: bool
    default: false
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

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._artifacts import (
    LazyFetcher,
    Notes,
    SourceClient,
    local_artifact,
    nothing_installed,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._command import module_runner
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, InstallError, UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._install import (
    DirLock,
    ensure_install_dir,
    has_staging_debris,
    install_staged,
    make_staging_dir,
    remove_install,
    remove_stale_staging,
    verify_staged,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import (
    RECEIPT_NAME,
    binary_stats,
    check_drift,
    installed_state,
    load_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.libc import detect_libc
from ansible_collections.pyfleet.uv.plugins.module_utils.sources import (
    check_version_option,
    parse_checksum_option,
    redact_url,
    source_argument_spec,
    url_password,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import detect_machine, explain_candidates


def _archive():
    """The unpacking code (tarfile, zipfile, gzip, threads), imported by the install path alone.

    A pinned no-op, check mode and ``state=absent`` never unpack anything, and on every call
    the host compiles each module_util it imports from the AnsiballZ zip (no bytecode cache
    there); the payload still carries _archive, since ansible's dependency finder follows
    imports inside functions too.
    """
    from ansible_collections.pyfleet.uv.plugins.module_utils import _archive  # pylint: disable=import-outside-toplevel
    return _archive


def _describe(state):
    if not state:
        return "absent\n"
    return "version: %s\ntarget: %s\n" % (state.get("version"), state.get("target"))


class UvInstall(object):
    """One run of the module: validate, gather, decide from local state, then act."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.install_dir = self.params["install_dir"]
        self.version = self.params["version"]
        self.run_cmd = module_runner(module)
        self.notes = Notes()
        self.reason = None
        self.result = dict(changed=False, msg="", version=None, previous_version=None)

    def validate(self):
        """Refuse bad options before anything else happens."""
        if not os.path.isabs(self.install_dir):
            raise InstallError("install_dir must be an absolute path such as /usr/local/bin or /opt/tools/bin, "
                               "got %r (a relative path would depend on the module's working directory)"
                               % self.install_dir)
        self.version = check_version_option(self.version)
        self.checksum = parse_checksum_option(self.params["checksum"])
        if self.params["timeout"] <= 0:
            raise UvError("timeout must be a positive number of seconds, got %d" % self.params["timeout"])
        if self.params["download_retries"] < 0:
            raise UvError("download_retries must be 0 or more, got %d" % self.params["download_retries"])
        if self.params["src"] and self.checksum[0] == "url":
            raise ChecksumError("with src, checksum must be sha256:<64 hex digits> (the file is not downloaded)")
        if self.params["download_on"] == "controller" and not (self.params["src"] or self.params["plan_only"]):
            raise UvError("download_on=controller needs the collection's action plugin, which did not run: call the "
                          "module as pyfleet.uv.uv_install (or through the play's collections keyword), not "
                          "through a module path such as ANSIBLE_LIBRARY")
        if os.path.lexists(self.install_dir) and not os.path.isdir(self.install_dir):
            raise InstallError("install_dir %s exists but is not a directory; point install_dir at a directory "
                               "(it is created when missing)" % self.install_dir)
        # Made on the first request: a pinned no-op never imports the HTTP stack.
        fetcher = LazyFetcher(self.module, timeout=self.params["timeout"], retries=self.params["download_retries"],
                              headers=self.params["headers"], ca_path=self.params["ca_path"])
        self.source = SourceClient(self.params, self.checksum, fetcher, self.notes, self.module.warn)

    def gather(self):
        """Libc facts and the verdict on every target of this architecture."""
        self.machine, arch_detected_by = detect_machine(self.params["arch"])
        facts = detect_libc(self.run_cmd)
        self.result.update(arch=self.machine, arch_detected_by=arch_detected_by, libc=dict(facts._asdict()))
        try:
            self.verdicts = explain_candidates(self.machine, facts.family, facts.version, self.params["libc"])
        except ValueError as exc:
            raise UvError("%s; set arch to one of them if uname -m is misleading" % exc)
        self.candidates = [target for target, runs, _reason in self.verdicts if runs]
        if not self.candidates and self.params["state"] == "present":
            raise UvError("no uv build runs on this host (%s, libc %s %s): %s" % (
                self.machine, facts.family or "unknown", facts.version or "",
                "; ".join(reason for _t, _r, reason in self.verdicts) or "uv has no build for it"))

    # -- decide ------------------------------------------------------------

    def local_state(self):
        installed = installed_state(os.path.join(self.install_dir, "uv"), self.run_cmd, self.machine)
        receipt, problem = load_receipt(self.install_dir)
        return installed, receipt, problem

    def decide(self, installed, receipt, problem):
        """``(action, reason)``: ``"none"`` or ``"install"``. Only ``latest`` may ask the source."""
        if self.params["force"]:
            return "install", "force=true"
        if not installed:
            return "install", "uv is not installed in %s" % self.install_dir
        drift = check_drift(self.install_dir, receipt)
        if drift:
            return "install", drift
        if problem:
            return "install", problem
        explicit = self.params["libc"] != "auto" or self.params["arch"]
        if explicit and installed["target"] not in self.candidates:
            return "install", "installed target %s is not among %s" % (installed["target"], ", ".join(self.candidates))
        if self.params["src"]:
            wanted = self.version if self.version != "latest" else None
            if wanted and installed["version"] == wanted and (receipt or {}).get("sha256") == self.checksum[1]:
                return "none", "uv %s from this file is installed" % wanted
            return "install", "src given"
        if self.version == "latest" and self.params["download_on"] == "controller":
            # The host may not reach the source: the controller compares the receipt.
            return "install", "whether uv %s is the latest is checked on the controller" % installed["version"]
        if self.version != "latest":
            if installed["version"] == self.version:
                return "none", "uv %s is installed" % self.version
            return "install", "uv %s is installed, %s is wanted" % (installed["version"], self.version)
        current = self.source.latest_is_current(installed, receipt, self.candidates)
        if current:
            return "none", "uv %s is the latest the %s serves" % (installed["version"], self.source.describe())
        if current is None:
            return "install", "no receipt tells what latest was"
        return "install", "the %s serves a newer release" % self.source.describe()

    # -- act ---------------------------------------------------------------

    def artifacts(self):
        """Yield each candidate's artifact with its expected sha256, best first (``src``: the one file)."""
        if self.params["src"]:
            yield local_artifact(self.params, self.checksum, self.verdicts, self.candidates, self.version), \
                self.checksum[1] if self.checksum[0] == "hex" else ""
            return
        yield from self.source.locate(self.source.resolve(self.version), self.candidates)

    def install(self, installed, receipt):
        """Try the artifacts best first; install the first served one that runs here."""
        local = self.params["src"]
        for artifact, expected in self.artifacts():
            target = artifact.target
            # A release archive is unpacked into a private staging folder while it downloads
            # (one pass, decompression beside the download, no copy of the archive); that
            # folder is dropped unless the sha256 of the whole download matches. A wheel
            # (zip) is downloaded into the module's temp dir and read after the download.
            streamed = not local and artifact.fmt == "tar.gz"
            staging = make_staging_dir(self.install_dir) if streamed else None
            path = local or (None if streamed else os.path.join(self.module.tmpdir, artifact.name))
            unpacked = None
            try:
                if not local:
                    sink = (lambda length, t=target, d=staging: _archive().TarStream(t, d, length)) if streamed else None
                    got = self.source.download(artifact, path, self.params["download_retries"], sink=sink)
                    if got is None:
                        continue
                    actual, unpacked = got[0], got[2]
                else:
                    actual = self.module.sha256(path)
                if expected and actual != expected:
                    self.notes.add(target, "served; checksum mismatch")
                    raise ChecksumError("checksum mismatch for %s: expected sha256 %s, got %s; nothing was changed"
                                        % (redact_url(artifact.url), expected, actual))
                if (receipt and installed and receipt.get("sha256") == actual and receipt.get("target") == target
                        and receipt.get("version") == installed["version"] and not self.params["force"]
                        and not check_drift(self.install_dir, receipt)):
                    self.notes.add(target, "served; same file as installed")
                    return self.finish_none("uv %s is the latest the %s serves" % (
                        installed["version"], self.source.describe()), installed, receipt)
                if staging is None:
                    staging = make_staging_dir(self.install_dir)
                if self.stage_and_swap(artifact, path, actual, installed, staging, unpacked):
                    return None
            finally:
                if path and not local and os.path.exists(path):
                    os.unlink(path)  # the downloaded wheel
                if staging:
                    shutil.rmtree(staging, ignore_errors=True)
        return self.fail_nothing_installed()

    def stage_and_swap(self, artifact, path, sha256, installed, staging, unpacked=None):
        """Extract into ``staging`` (which the caller removes), run and swap one artifact; False
        (noted) if it cannot run here.

        ``unpacked``: the ``TarStream`` that already unpacked the verified download into ``staging``.
        """
        target = artifact.target
        if unpacked is not None:
            if unpacked.error is not None:
                raise unpacked.error
            staged = unpacked.found
        else:
            staged = _archive().extract(path, artifact.fmt, target, artifact.version, staging)
        ok, detail = verify_staged(staged, self.version, self.run_cmd, target, artifact.fmt)
        if not ok:
            self.notes.add(target, "served; %s" % detail)
            return False
        self.notes.add(target, "served; runs (uv %s)" % detail)
        url = artifact.url if artifact.source == "src" else redact_url(artifact.url)
        # The receipt goes in with the binaries (last, in the same all-or-nothing swap).
        binaries = install_staged(staged, self.install_dir, receipt={
            "source": artifact.source, "version": detail, "target": target, "artifact": artifact.name,
            "url": url, "sha256": sha256, "binaries": binary_stats(staging),
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
        previous = installed["version"] if installed else None
        passed_over = self.notes.passed_over(self.candidates, target)
        self.result.update(
            changed=True, version=detail, target=target, artifact=artifact.name, url=url, sha256=sha256,
            binaries=binaries, source=artifact.source,
            msg="installed uv %s (%s) in %s%s%s" % (
                detail, target, self.install_dir,
                ", replacing %s (%s)" % (previous, self.reason) if previous else "",
                "; passed over %s" % "; ".join(passed_over) if passed_over else ""))
        self.result["diff"] = dict(before=_describe(installed), after=_describe({"version": detail, "target": target}))
        return True

    def fail_nothing_installed(self):
        raise nothing_installed(self.notes, self.candidates, "file" if self.params["src"] else self.source.describe(),
                                self.source.tried())

    def finish_none(self, reason, installed, receipt):
        """Report a no-op with what is installed."""
        receipt = receipt if receipt and receipt.get("version") == installed["version"] else {}
        target = installed["target"] or receipt.get("target")
        self.result.update(
            changed=False, msg="%s in %s; nothing to do" % (reason, self.install_dir),
            version=installed["version"], target=target, artifact=receipt.get("artifact"),
            url=receipt.get("url"), sha256=receipt.get("sha256"), source=receipt.get("source"),
            binaries=[os.path.join(self.install_dir, "uv"), os.path.join(self.install_dir, "uvx")])

    # -- flows -------------------------------------------------------------

    def present(self):
        installed, receipt, problem = self.local_state()
        self.result["previous_version"] = installed["version"] if installed else None
        action, reason = self.decide(installed, receipt, problem)
        self.reason = reason
        if action == "none":
            self.finish_none(reason, installed, receipt)
            if not self.module.check_mode and has_staging_debris(self.install_dir):
                with DirLock(self.install_dir):
                    remove_stale_staging(self.install_dir)
            return
        if problem and not self.module.check_mode:
            self.module.warn("%s; it will be rewritten" % problem)
        if self.module.check_mode or self.params["plan_only"]:
            return self.plan(installed, receipt, reason)
        ensure_install_dir(self.install_dir)
        with DirLock(self.install_dir):
            remove_stale_staging(self.install_dir)
            again = self.local_state()
            if again != (installed, receipt, problem):
                # Another run changed the install while this one waited for the lock.
                installed, receipt, problem = again
                action, self.reason = self.decide(installed, receipt, problem)
                if action == "none":
                    return self.finish_none(self.reason, installed, receipt)
            self.install(installed, receipt)

    def plan(self, installed, receipt, reason):
        """Check mode, or the first step of download_on=controller: what would be installed, no writes."""
        target = self.candidates[0]
        after = None if self.version == "latest" else self.version
        self.result.update(
            changed=True, version=after, target=target, binaries=[os.path.join(self.install_dir, n) for n in ("uv", "uvx")],
            source=self.source.kind if not self.params["src"] else "src", plan=dict(
                reason=reason, candidates=self.candidates, installed=installed, receipt=receipt),
            msg="would install uv %s in %s: %s (the %s decides between %s)" % (
                self.version, self.install_dir, reason, self.source.describe(), ", ".join(self.candidates)))
        if not self.params["plan_only"]:
            self.result.pop("plan")
        self.result["diff"] = dict(before=_describe(installed), after=_describe({"version": after or "latest",
                                                                                "target": target}))

    def absent(self):
        names = [os.path.join(self.install_dir, name) for name in ("uv", "uvx", RECEIPT_NAME)]
        present = [path for path in names if os.path.lexists(path)]
        installed = installed_state(names[0], self.run_cmd)
        self.result.update(previous_version=installed["version"] if installed else None,
                           binaries=[p for p in present if not p.endswith(RECEIPT_NAME)])
        if not present:
            self.result["msg"] = "uv is not installed in %s; nothing to do" % self.install_dir
            return
        self.result["changed"] = True
        self.result["diff"] = dict(before=_describe(installed), after=_describe(None))
        if self.module.check_mode:
            self.result["msg"] = "would remove %s" % ", ".join(present)
            return
        with DirLock(self.install_dir):
            removed = remove_install(self.install_dir)
            remove_stale_staging(self.install_dir)
        self.result["msg"] = "removed %s" % ", ".join(removed)

    def run(self):
        self.validate()
        self.gather()
        if self.params["state"] == "absent":
            self.absent()
        else:
            self.present()
        taken = self.result.get("target") if self.result["changed"] else None
        self.result["candidates"] = self.notes.report(self.verdicts, taken)
        if not self.module._diff:
            self.result.pop("diff", None)
        return self.result


def main():
    spec = source_argument_spec()
    spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        install_dir=dict(type="path", default="/usr/local/bin"),
        libc=dict(type="str", default="auto", choices=["auto", "gnu", "musl"]),
        arch=dict(type="str"),
        force=dict(type="bool", default=False),
        download_on=dict(type="str", default="host", choices=["host", "controller"]),
        controller_cache_dir=dict(type="path"),
        src=dict(type="path"),
        src_origin=dict(type="dict"),
        plan_only=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=[("mirror_url", "index_url"), ("src", "index_url")])
    for url in (module.params["mirror_url"], module.params["index_url"]):
        embedded = url_password(url) if url else None
        if embedded:
            module.no_log_values.add(embedded)
    runner = UvInstall(module)
    try:
        result = runner.run()
    except UvError as exc:
        failed = dict(runner.result)
        failed.pop("diff", None)
        failed.pop("plan", None)
        if hasattr(runner, "verdicts"):
            failed["candidates"] = runner.notes.report(runner.verdicts)
        failed.update(exc.details)
        failed["msg"] = exc.msg
        module.fail_json(**failed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
