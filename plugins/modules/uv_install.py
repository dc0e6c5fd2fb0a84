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
    the archive; the new C(uv --version) must run on the host and report the wanted
    version before it atomically replaces the old binaries. If a served build cannot run
    here, the next served build is tried. On any failure the previous install stays as it was.
  - A pinned version that is already installed is recognised from the host alone, without
    any request to the mirror. V(latest) costs one small request (the checksum sidecar)
    when nothing changed.
  - Records what it installed in a receipt, C(<install_dir>/.pyfleet-uv.json), with keys
    C(schema), C(version), C(target), C(artifact), C(url) (without credentials), C(sha256)
    of the archive and C(installed_at).
  - Concurrent runs on one host are serialised by a lock on O(install_dir) itself; the
    decision is taken again under the lock.
author:
  - pyfleet maintainers (@pyfleet)
extends_documentation_fragment:
  - pyfleet.uv.url
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
  version:
    description:
      - The uv version to install, as V(X.Y.Z) (for example V(0.5.11); no leading V(v)), or V(latest).
      - How V(latest) reaches the mirror is described under O(mirror_url).
    type: str
    default: latest
  state:
    description:
      - V(present) installs O(version); V(absent) removes C(uv), C(uvx) and the receipt from O(install_dir).
    type: str
    choices: [present, absent]
    default: present
  mirror_url:
    description:
      - Where the release archives are, as a template. C({version}), C({target}) and
        C({artifact}) are replaced (C({artifact}) is C(uv-<target>.tar.gz)).
      - A template without C({artifact}) is a directory; C(/<artifact>) is appended. So
        V(http://mirror/uv/{version}/) is a versioned mirror and V(http://mirror/uv/) a flat
        one that holds the current archives, like an S3 folder.
      - With O(version=latest), a GitHub-shaped template (C(.../releases/download/{version}/...))
        uses GitHub's C(.../releases/latest/download/...); other templates get the word
        V(latest) in place of C({version}) (keep a C(latest) alias on the mirror), and
        templates without C({version}) are taken to always serve the current release.
      - User info in the URL (C(https://user:pass@host/)) works, but prefer
        O(url_username) and O(url_password); credentials never appear in results.
    type: str
    default: https://github.com/astral-sh/uv/releases/download/{version}/{artifact}
  install_dir:
    description:
      - Directory for C(uv), C(uvx) and the receipt. Created (mode 0755) when missing.
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
  checksum:
    description:
      - How to verify the archive. By default the mirror's C(<archive>.sha256) sidecar
        (C(<hex>  <name>), C(<hex> *<name>) or a bare hex digest).
      - V(sha256:<64 hex digits>) checks against that digest.
      - V(sha256:<URL>) reads a checksum file such as a release's C(sha256.sum) and takes
        the line for the chosen archive.
    type: str
  allow_missing_checksum:
    description:
      - Install an archive whose C(.sha256) sidecar the mirror does not serve (a warning is
        issued). Without this, a missing sidecar fails the task.
    type: bool
    default: false
  force:
    description:
      - Download and install even if the wanted version is already installed.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the mirror on each connection and read.
    type: int
    default: 30
  download_retries:
    description:
      - How often to retry a request after a connection error, a 5xx answer or a body
        shorter than its Content-Length, with a doubling pause starting at 1 second.
    type: int
    default: 3
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
  description: The archive name of that target.
  returned: when state is present
  type: str
  sample: uv-x86_64-unknown-linux-gnu.tar.gz
url:
  description: The URL the archive came from (or would come from), without credentials.
  returned: when state is present
  type: str
  sample: https://mirror.example.com/uv/0.13.8/uv-x86_64-unknown-linux-gnu.tar.gz
sha256:
  description: The sha256 of the installed archive, from the receipt when nothing changed.
  returned: when state is present
  type: str
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
"""

import datetime
import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pyfleet.uv.plugins.module_utils._command import module_runner
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import (
    ArchiveError,
    ChecksumError,
    InstallError,
    MirrorError,
    UvError,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._install import (
    STAGING_PREFIX,
    DirLock,
    extract_binaries,
    install_staged,
    make_staging_dir,
    remove_install,
    remove_stale_staging,
    verify_staged,
    write_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._installed import (
    RECEIPT_NAME,
    installed_state,
    read_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._fetch import Fetcher
from ansible_collections.pyfleet.uv.plugins.module_utils.sources import (
    DEFAULT_MIRROR,
    checksum_url,
    parse_checksum_file,
    parse_checksum_option,
    redact_url,
    render_url,
    url_password,
    validate_template,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.libc import detect_libc
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import (
    artifact_name,
    explain_candidates,
)

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_NOT_SERVED = (404, 410, 403)  # S3 answers 403 for a missing key without list rights.
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


def _describe(state):
    if not state:
        return "absent\n"
    return "version: %s\ntarget: %s\n" % (state.get("version"), state.get("target"))


class UvInstall(object):
    """One run of the module: ``decide`` from local state, then ``act``."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.install_dir = self.params["install_dir"]
        self.version = self.params["version"]
        self.uv_path = os.path.join(self.install_dir, "uv")
        self.uvx_path = os.path.join(self.install_dir, "uvx")
        self.notes = {}
        self.run_cmd = module_runner(module)
        self.checksum_list = None
        self.fetcher = Fetcher(
            module,
            timeout=self.params["timeout"],
            retries=self.params["download_retries"],
            headers=self.params["headers"],
            ca_path=self.params["ca_path"],
        )
        self.result = dict(changed=False, msg="", version=None, previous_version=None)

    # -- inputs ------------------------------------------------------------

    def validate(self):
        """Refuse bad options before anything else happens."""
        if self.version != "latest" and not _VERSION_RE.match(self.version):
            hint = ""
            if self.version.lstrip("vV") != self.version and _VERSION_RE.match(self.version.lstrip("vV")):
                hint = " (write %s, without the leading 'v')" % self.version.lstrip("vV")
            raise UvError("version must be 'latest' or X.Y.Z such as 0.13.8, got %r%s" % (self.version, hint))
        validate_template(self.params["mirror_url"])
        self.checksum = parse_checksum_option(self.params["checksum"])
        if self.params["timeout"] <= 0:
            raise UvError("timeout must be a positive number of seconds, got %d" % self.params["timeout"])
        if self.params["download_retries"] < 0:
            raise UvError("download_retries must be 0 or more, got %d" % self.params["download_retries"])
        if os.path.lexists(self.install_dir) and not os.path.isdir(self.install_dir):
            raise InstallError(
                "install_dir %s exists but is not a directory; point install_dir at a directory "
                "(it is created when missing)" % self.install_dir
            )

    def gather(self):
        """Libc facts and the verdict on every target of this architecture."""
        machine = self.params["arch"] or os.uname()[4]
        facts = detect_libc(self.run_cmd)
        self.result["arch"] = machine
        self.result["libc"] = dict(facts._asdict())
        try:
            self.verdicts = explain_candidates(machine, facts.family, facts.version, self.params["libc"])
        except ValueError as exc:
            raise UvError("%s; set arch to one of them if uname -m is misleading" % exc)
        self.candidates = [target for target, runs, _reason in self.verdicts if runs]
        if not self.candidates and self.params["state"] == "present":
            raise UvError(
                "no uv build runs on this host (%s, libc %s %s): %s"
                % (machine, facts.family, facts.version, "; ".join(r for _t, _ok, r in self.verdicts))
            )

    def local_state(self):
        """What is installed now, read from the host only."""
        installed = installed_state(self.uv_path, self.run_cmd)
        receipt = read_receipt(self.install_dir)
        return installed, receipt

    # -- decide ------------------------------------------------------------

    def _target_acceptable(self, target):
        explicit = self.params["libc"] != "auto" or self.params["arch"]
        return not (explicit and target and target not in self.candidates)

    def decide(self, installed, receipt):
        """Return ``(action, reason)``; ``action`` is ``"none"`` or ``"install"``.

        For ``latest`` this may ask the mirror for one small checksum file.
        """
        if self.params["force"]:
            return "install", "force=true"
        if not installed:
            return "install", "uv is not installed in %s" % self.install_dir
        if not os.path.isfile(self.uvx_path):
            return "install", "uvx is missing from %s" % self.install_dir
        if not self._target_acceptable(installed["target"]):
            return "install", "installed target %s is not among %s" % (installed["target"], ", ".join(self.candidates))
        if self.version != "latest":
            if installed["version"] == self.version:
                return "none", "uv %s is installed" % self.version
            return "install", "uv %s is installed, %s is wanted" % (installed["version"], self.version)
        current = self.latest_is_current(installed, receipt)
        if current:
            return "none", "uv %s is the latest the mirror serves" % installed["version"]
        if current is None:
            return "install", "no receipt tells what latest was"
        return "install", "the mirror serves a newer build"

    def latest_is_current(self, installed, receipt):
        """Compare the mirror's latest checksum with the receipt: True, False or None (unknown)."""
        if not receipt or receipt.get("version") != installed["version"]:
            return None
        target = receipt.get("target")
        if target not in self.candidates or not receipt.get("sha256"):
            return None
        remote = self.expected_sha256(target, self._url(target), probe_archive=False)
        if remote is None:
            return None
        return remote == receipt["sha256"]

    # -- mirror ------------------------------------------------------------

    def _url(self, target):
        return render_url(self.params["mirror_url"], self.version, target, artifact_name(target))

    def _note(self, target, text):
        self.notes.setdefault(target, []).append(text)

    def expected_sha256(self, target, url, probe_archive=True):
        """The sha256 the archive must have; ``None`` when it is not served (noted).

        Raises ``ChecksumError`` when a served archive has no usable checksum and the
        user did not opt out, and ``MirrorError`` when the mirror fails.
        """
        kind, data = self.checksum
        artifact = artifact_name(target)
        if kind == "hex":
            return data
        if kind == "url":
            if self.checksum_list is None:
                answer = self.fetcher.get_small(data)
                if answer.status != 200 or answer.body is None:
                    raise MirrorError("cannot read the checksum file %s: %s %s" % (
                        redact_url(data), self._status(answer.status), answer.note))
                self.checksum_list = answer.body.decode("utf-8", "replace")
            try:
                digest = parse_checksum_file(self.checksum_list, artifact)
            except ChecksumError as exc:
                raise ChecksumError("%s (%s)" % (exc.msg, redact_url(data)))
            if digest is None:
                self._note(target, "not listed in %s" % redact_url(data))
            return digest
        sidecar = checksum_url(url)
        answer = self.fetcher.get_small(sidecar)
        if answer.status == 200 and answer.body is not None:
            try:
                digest = parse_checksum_file(answer.body.decode("utf-8", "replace"), artifact)
            except ChecksumError as exc:
                raise ChecksumError("malformed checksum sidecar %s: %s" % (redact_url(sidecar), exc.msg))
            if digest is None:
                raise ChecksumError("the checksum sidecar %s lists no %s" % (redact_url(sidecar), artifact))
            return digest
        if answer.status not in _NOT_SERVED:
            raise MirrorError("the mirror failed: %s (%s %s)" % (
                self.fetcher.tried(), self._status(answer.status), answer.note))
        if not probe_archive:
            return None
        archive = self.fetcher.probe(url)
        if archive.status in _NOT_SERVED:
            self._note(target, "not served (%s)" % self._status(archive.status))
            return None
        if archive.status != 200:
            raise MirrorError("the mirror failed: %s (%s)" % (self.fetcher.tried(), archive.note))
        if self.params["allow_missing_checksum"]:
            self.module.warn("%s has no checksum sidecar (%s); installing it unverified because "
                             "allow_missing_checksum=true" % (redact_url(url), self._status(answer.status)))
            return ""
        raise ChecksumError(
            "%s is served but its checksum sidecar %s is not (%s); publish the sidecar, pass "
            "checksum=sha256:<hex> or checksum=sha256:<URL of sha256.sum>, or set "
            "allow_missing_checksum=true to install unverified"
            % (redact_url(url), redact_url(sidecar), self._status(answer.status))
        )

    @staticmethod
    def _status(status):
        return "connection failed" if status == -1 else "HTTP %s" % status

    # -- act ---------------------------------------------------------------

    def install(self, installed, receipt):
        """Try the candidates in order; install the first served one that runs here."""
        tmpdir = self.module.tmpdir
        for target in self.candidates:
            url = self._url(target)
            expected = self.expected_sha256(target, url)
            if expected is None:
                continue
            archive_path = os.path.join(tmpdir, artifact_name(target))
            try:
                answer = self.fetcher.download(url, archive_path, MAX_ARCHIVE_BYTES)
                if answer.status in _NOT_SERVED:
                    self._note(target, "not served (%s)" % self._status(answer.status))
                    continue
                if answer.status != 200:
                    raise MirrorError("downloading %s failed: %s after %d retries (%s)" % (
                        redact_url(url), self._status(answer.status), self.params["download_retries"], answer.note))
                if answer.body is None:
                    raise ArchiveError("%s: %s" % (redact_url(url), answer.note))
                actual, _size = answer.body
                if expected and actual != expected:
                    self._note(target, "served; checksum mismatch")
                    raise ChecksumError(
                        "checksum mismatch for %s: expected sha256 %s, got %s; nothing was changed"
                        % (redact_url(url), expected, actual)
                    )
                if (receipt and installed and receipt.get("sha256") == actual and receipt.get("target") == target
                        and receipt.get("version") == installed["version"] and not self.params["force"]):
                    self._note(target, "served; same archive as installed")
                    return self.finish_none("uv %s is the latest the mirror serves" % installed["version"],
                                            installed, receipt)
                if self.stage_and_swap(target, url, archive_path, actual, installed):
                    return
            finally:
                if os.path.exists(archive_path):
                    os.unlink(archive_path)
        self.fail_nothing_installed()

    def stage_and_swap(self, target, url, archive_path, sha256, installed):
        """Extract, run and swap one candidate; False (noted) if it cannot run here."""
        staging = make_staging_dir(self.install_dir)
        try:
            staged = extract_binaries(archive_path, target, staging)
            ok, detail = verify_staged(staged, self.version, self.run_cmd)
            if not ok:
                self._note(target, "served; %s" % detail)
                return False
            self._note(target, "served; runs (uv %s)" % detail)
            binaries = install_staged(self.module.atomic_move, staged, self.install_dir)
            write_receipt(self.install_dir, staging, {
                "version": detail,
                "target": target,
                "artifact": artifact_name(target),
                "url": redact_url(url),
                "sha256": sha256,
                "installed_at": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
            })
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        previous = installed["version"] if installed else None
        # Say why a better build was not taken (not served, does not run here, ...).
        passed_over = ["%s: %s" % (t, "; ".join(self.notes[t])) for t in self.candidates[:self.candidates.index(target)]
                       if self.notes.get(t)]
        self.result.update(
            changed=True, version=detail, target=target, artifact=artifact_name(target),
            url=redact_url(url), sha256=sha256, binaries=binaries,
            msg="installed uv %s (%s) in %s%s%s" % (
                detail, target, self.install_dir, ", replacing %s" % previous if previous else "",
                "; passed over %s" % "; ".join(passed_over) if passed_over else ""),
        )
        self.result["diff"] = dict(before=_describe(installed), after=_describe({"version": detail, "target": target}))
        return True

    def fail_nothing_installed(self):
        served = [t for t in self.candidates if any(n.startswith("served") for n in self.notes.get(t, []))]
        would_run = ", ".join(self.candidates)
        if served:
            raise InstallError(
                "no build the mirror serves runs on this host: %s; the previous install is untouched"
                % "; ".join("%s: %s" % (t, " ".join(self.notes[t])) for t in served)
            )
        raise MirrorError(
            "the mirror serves none of the builds that run on this host (%s); tried: %s. "
            "Check mirror_url and version, or publish one of: %s"
            % (would_run, self.fetcher.tried() or "nothing", ", ".join(artifact_name(t) for t in self.candidates))
        )

    def finish_none(self, reason, installed, receipt):
        """Report a no-op with what is installed."""
        receipt = receipt if receipt and receipt.get("version") == installed["version"] else {}
        target = installed["target"] or receipt.get("target")
        self.result.update(
            changed=False, msg="%s in %s; nothing to do" % (reason, self.install_dir),
            version=installed["version"], target=target,
            artifact=artifact_name(target) if target else None,
            url=receipt.get("url"), sha256=receipt.get("sha256"),
            binaries=[self.uv_path, self.uvx_path],
        )

    def candidate_report(self, taken=None):
        report = []
        for target, runs, reason in self.verdicts:
            notes = self.notes.get(target, [])
            if not runs:
                decision = "excluded"
            elif target == taken:
                decision = "taken"
            elif notes:
                decision = "passed over"
            else:
                decision = "not tried"
            report.append(dict(target=target, decision=decision, reason="; ".join([reason] + notes)))
        return report

    # -- flows -------------------------------------------------------------

    def present(self):
        installed, receipt = self.local_state()
        self.result["previous_version"] = installed["version"] if installed else None
        action, reason = self.decide(installed, receipt)
        if action == "none":
            self.finish_none(reason, installed, receipt)
            if not self.module.check_mode and self._has_debris():
                with DirLock(self.install_dir):
                    remove_stale_staging(self.install_dir)
            return
        if self.module.check_mode:
            target = self.candidates[0]
            after_version = None if self.version == "latest" else self.version
            self.result.update(
                changed=True, version=after_version, target=target, artifact=artifact_name(target),
                url=redact_url(self._url(target)), sha256=None, binaries=[self.uv_path, self.uvx_path],
                msg="would install uv %s in %s: %s (the mirror decides between %s)" % (
                    self.version, self.install_dir, reason, ", ".join(self.candidates)),
            )
            self.result["diff"] = dict(before=_describe(installed),
                                       after=_describe({"version": after_version or "latest", "target": target}))
            return
        self.ensure_install_dir()
        with DirLock(self.install_dir):
            remove_stale_staging(self.install_dir)
            again = self.local_state()
            if again != (installed, receipt):
                # Another run changed the install while this one waited for the lock.
                installed, receipt = again
                action, reason = self.decide(installed, receipt)
                if action == "none":
                    return self.finish_none(reason, installed, receipt)
            self.install(installed, receipt)

    def _has_debris(self):
        try:
            return any(name.startswith(STAGING_PREFIX) for name in os.listdir(self.install_dir))
        except OSError:
            return False

    def ensure_install_dir(self):
        if os.path.isdir(self.install_dir):
            if not os.access(self.install_dir, os.W_OK | os.X_OK):
                raise InstallError(
                    "install_dir %s is not writable by this user; run with become: true or choose "
                    "a directory this user owns" % self.install_dir
                )
            return
        try:
            os.makedirs(self.install_dir, 0o755)
        except OSError as exc:
            raise InstallError("cannot create install_dir %s: %s; create it or run with become: true"
                               % (self.install_dir, exc.strerror or exc))

    def absent(self):
        present = [os.path.join(self.install_dir, name) for name in ("uv", "uvx", RECEIPT_NAME)
                   if os.path.lexists(os.path.join(self.install_dir, name))]
        installed = installed_state(self.uv_path, self.run_cmd)
        self.result["previous_version"] = installed["version"] if installed else None
        self.result["binaries"] = [p for p in present if not p.endswith(RECEIPT_NAME)]
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
        self.result["candidates"] = self.candidate_report(self.result.get("target") if self.result["changed"] else None)
        if not self.module._diff:
            self.result.pop("diff", None)
        return self.result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            version=dict(type="str", default="latest"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            mirror_url=dict(type="str", default=DEFAULT_MIRROR),
            install_dir=dict(type="path", default="/usr/local/bin"),
            libc=dict(type="str", default="auto", choices=["auto", "gnu", "musl"]),
            arch=dict(type="str"),
            checksum=dict(type="str"),
            allow_missing_checksum=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
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
        ),
        supports_check_mode=True,
    )
    embedded = url_password(module.params["mirror_url"])
    if embedded:
        module.no_log_values.add(embedded)
    runner = UvInstall(module)
    try:
        result = runner.run()
    except UvError as exc:
        failed = dict(runner.result)
        failed.pop("diff", None)
        if hasattr(runner, "verdicts"):
            failed["candidates"] = runner.candidate_report()
        failed.update(exc.details)
        failed["msg"] = exc.msg
        module.fail_json(**failed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
