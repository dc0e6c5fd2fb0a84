# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The install flow that uv_install, ruff_install and ty_install share: validate, plan, act, report.

PRIVATE API: only for this collection's modules; names may change without notice.
Each module is a face (its docs and ``main()``) over ``run_module(tool)``; what
differs between the tools is data in ``tools.TOOLS``, handed down to every step
(selection, sources, fetching, unpacking, staging, swapping, receipts, the no-op).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import time

from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import (
    LazyFetcher,
    Notes,
    SourceClient,
    local_artifact,
    nothing_installed,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, InstallError, UvError
from ansible_collections.pyfleet.uv.plugins.module_utils.install._install import (
    DirLock,
    copy_hashed,
    ensure_install_dir,
    has_staging_debris,
    install_staged,
    make_staging_dir,
    remove_install,
    remove_stale_staging,
    verify_staged,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.install._installed import (
    binary_stats,
    check_drift,
    install_dir_trust,
    installed_state,
    load_receipt,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.libc import detect_libc
from ansible_collections.pyfleet.uv.plugins.module_utils._probe import module_runner
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import masking_module_class
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import parse_checksum_option
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import detect_machine, explain_candidates
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import get_tool
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import check_version_option, source_argument_spec

__all__ = ["ToolInstall", "install_argument_spec", "run_module"]


def _archive():
    """The unpacking code (tarfile, zipfile, gzip, threads), imported by the install path alone.

    A pinned no-op, check mode and ``state=absent`` never unpack anything, and on every call
    the host compiles each module_util it imports from the AnsiballZ zip (no bytecode cache
    there); the payload still carries _archive, since ansible's dependency finder follows
    imports inside functions too.
    """
    from ansible_collections.pyfleet.uv.plugins.module_utils.install import _archive as archive  # pylint: disable=import-outside-toplevel
    return archive


def _tar_stream(target, staging_dir, length, tool):
    """A ``TarStream`` (``_archive_stream``: unpacking while downloading), imported on that path alone."""
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._archive_stream import TarStream  # pylint: disable=import-outside-toplevel
    return TarStream(target, staging_dir, length, tool)


def _describe(state):
    if not state:
        return "absent\n"
    return "version: %s\ntarget: %s\n" % (state.get("version"), state.get("target"))


class ToolInstall(object):
    """One run of an install module for ``tool``: validate, gather, decide from local state, then act."""

    def __init__(self, module, tool):
        self.tool = get_tool(tool)
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
        self.version = check_version_option(self.version, module=self.tool.module)
        self.checksum = parse_checksum_option(self.params["checksum"])
        if self.params["timeout"] <= 0:
            raise UvError("timeout must be a positive number of seconds, got %d" % self.params["timeout"])
        if self.params["download_retries"] < 0:
            raise UvError("download_retries must be 0 or more, got %d" % self.params["download_retries"])
        if self.params["src"] and self.checksum[0] == "url":
            raise ChecksumError("with src, checksum must be sha256:<64 hex digits> (the file is not downloaded)")
        if self.params["download_on"] == "controller" and not (self.params["src"] or self.params["plan_only"]):
            raise UvError("download_on=controller needs the collection's action plugin, which did not run: call the "
                          "module as %s (or through the play's collections keyword), not "
                          "through a module path such as ANSIBLE_LIBRARY" % self.tool.module)
        if os.path.lexists(self.install_dir) and not os.path.isdir(self.install_dir):
            raise InstallError("install_dir %s exists but is not a directory; point install_dir at a directory "
                               "(it is created when missing)" % self.install_dir)
        # Made on the first request: a pinned no-op never imports the HTTP stack.
        fetcher = LazyFetcher(self.module, timeout=self.params["timeout"], retries=self.params["download_retries"],
                              headers=self.params["headers"], ca_path=self.params["ca_path"])
        self.source = SourceClient(self.params, self.checksum, fetcher, self.notes, self.module.warn, self.tool)

    def gather(self):
        """Libc facts and the verdict on every target of this architecture."""
        self.machine, arch_detected_by = detect_machine(self.params["arch"])
        facts = detect_libc(self.run_cmd)
        self.result.update(arch=self.machine, arch_detected_by=arch_detected_by, libc=dict(facts._asdict()))
        try:
            self.verdicts = explain_candidates(self.machine, facts.family, facts.version, self.params["libc"],
                                               self.tool)
        except ValueError as exc:
            raise UvError("%s; set arch to one of them if uname -m is misleading" % exc)
        self.candidates = [target for target, runs, _reason in self.verdicts if runs]
        if not self.candidates and self.params["state"] == "present":
            raise UvError("no %s build runs on this host (%s, libc %s %s): %s" % (
                self.tool.name, self.machine, facts.family or "unknown", facts.version or "",
                "; ".join(reason for _t, _r, reason in self.verdicts) or "%s has no build for it" % self.tool.name))

    # -- decide ------------------------------------------------------------

    def local_state(self):
        installed = installed_state(self.path(self.tool.binaries[0]), self.run_cmd, self.machine, self.tool)
        receipt, problem = load_receipt(self.install_dir, self.tool)
        return installed, receipt, problem

    def decide(self, installed, receipt, problem):
        """``(action, reason)``: ``"none"`` or ``"install"``. Only ``latest`` may ask the source."""
        if self.params["force"]:
            return "install", "force=true"
        if not installed:
            return "install", "%s is not installed in %s" % (self.tool.name, self.install_dir)
        drift = check_drift(self.install_dir, receipt, self.tool)
        if drift:
            return "install", drift
        if problem:
            return "install", problem
        explicit = self.params["libc"] != "auto" or self.params["arch"]
        if explicit and installed["target"] not in self.candidates:
            return "install", "installed target %s is not among %s" % (installed["target"], ", ".join(self.candidates))
        if self.params["src"]:
            # Decided from the file's sha256 alone (the checksum option, else the file's own
            # hash: local, no network), so that check mode and the real run agree.
            sha256 = self.checksum[1] if self.checksum[0] == "hex" else self.src_sha256()
            if self.same_file(installed, receipt, sha256):
                self.check_wanted(installed["version"], self.params["src"], same_file=True)
                return "none", "%s %s from this file is installed" % (self.tool.name, installed["version"])
            return "install", "src given"
        if self.version == "latest" and self.params["download_on"] == "controller":
            # The host may not reach the source: the controller compares the receipt.
            return "install", "whether %s %s is the latest is checked on the controller" % (
                self.tool.name, installed["version"])
        if self.version != "latest":
            if self.wanted(installed["version"]):
                return "none", "%s %s is installed" % (self.tool.name, self.version)
            return "install", "%s %s is installed, %s is wanted" % (self.tool.name, installed["version"], self.version)
        current = self.source.latest_is_current(installed, receipt, self.candidates)
        if current:
            return "none", "%s %s is the latest the %s serves" % (
                self.tool.name, installed["version"], self.source.describe())
        if current is None:
            return "install", "no receipt tells what latest was"
        return "install", "the %s serves a newer release" % self.source.describe()

    def wanted(self, version):
        """Whether ``version`` is what the ``version`` option asks for: the one test behind every no-op.

        ``latest`` takes whatever the source serves; a pinned X.Y.Z only that release.
        """
        return self.version == "latest" or version == self.version

    def same_file(self, installed, receipt, sha256):
        """Whether ``sha256`` is the file the healthy install in ``install_dir`` came from (its receipt)."""
        return bool(sha256 and installed and receipt and not self.params["force"]
                    and receipt.get("sha256") == sha256 and receipt.get("version") == installed["version"]
                    and not check_drift(self.install_dir, receipt, self.tool))

    def check_wanted(self, version, where, same_file=False):
        """Raise ``InstallError`` when the source (or ``src``) holds ``version`` for a pinned ``version`` option.

        A flat mirror (no ``{version}`` in its path) serves whatever release it holds under
        every version; installing that, or reporting it as a no-op, would leave another
        release than the one pinned. ``where``: the artifact's URL (or the ``src`` path).
        """
        if self.wanted(version):
            return
        held = "%s %s%s" % (self.tool.name, version, " (the file installed now)" if same_file else "")
        origin = (self.params.get("src_origin") or {}).get("url")
        if origin:
            # download_on=controller: the controller downloaded it from the source and pushed it.
            raise InstallError(
                "the controller downloaded %s from %s, not the pinned %s; nothing was changed. Publish %s %s "
                "there, use a mirror_url with {version} in it, or pin the version it serves" % (
                    held, redact_url(origin), self.version, self.tool.name, self.version))
        if self.params["src"]:
            raise InstallError("src %s holds %s, not the pinned %s; nothing was changed. Give the file of %s %s, "
                               "or pin %s" % (self.params["src"], held, self.version, self.tool.name, self.version,
                                              version))
        raise InstallError(
            "the %s serves %s at %s, not the pinned %s; nothing was changed. Publish %s %s there, use a "
            "mirror_url with {version} in it, or pin the version it serves" % (
                self.source.describe(), held, redact_url(where), self.version, self.tool.name, self.version))

    def described(self):
        """What the artifacts come from, for messages: the source, or the ``src`` file."""
        return "file" if self.params["src"] else self.source.describe()

    def src_sha256(self):
        """The sha256 of ``src`` (read once; for the decision when no ``checksum`` gives it)."""
        try:
            return self.module.sha256(self.params["src"])
        except (IOError, OSError) as exc:
            raise InstallError("cannot read src %s: %s" % (self.params["src"], getattr(exc, "strerror", None) or exc))

    # -- act ---------------------------------------------------------------

    def artifacts(self):
        """Yield each candidate's artifact with its expected sha256, best first (``src``: the one file)."""
        if self.params["src"]:
            yield local_artifact(self.params, self.checksum, self.verdicts, self.candidates, self.version,
                                 self.tool), \
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
            staging = make_staging_dir(self.install_dir, tool=self.tool) if streamed or local else None
            # src is copied into the private staging folder while it is hashed (one read of it):
            # what is unpacked is what was hashed, whatever happens to src meanwhile.
            path = os.path.join(staging, ".src") if local else (
                None if streamed else os.path.join(self.module.tmpdir, artifact.name))
            unpacked = None
            try:
                if not local:
                    sink = (lambda length, t=target, d=staging: _tar_stream(t, d, length, self.tool)
                            ) if streamed else None
                    got = self.source.download(artifact, path, self.params["download_retries"], sink=sink)
                    if got is None:
                        continue
                    actual, unpacked = got[0], got[2]
                else:
                    actual = copy_hashed(local, path, self.install_dir)
                if expected and actual != expected:
                    self.notes.add(target, "served; checksum mismatch")
                    raise ChecksumError("checksum mismatch for %s: expected sha256 %s, got %s; nothing was changed"
                                        % (redact_url(artifact.url), expected, actual))
                if self.same_file(installed, receipt, actual) and receipt.get("target") == target:
                    # The source serves the installed file: a no-op only if that is the wanted version.
                    self.notes.add(target, "served; same file as installed")
                    self.check_wanted(installed["version"], artifact.url, same_file=True)
                    return self.finish_none("%s %s %s" % (self.tool.name, installed["version"], (
                        "from this file is installed" if local else "is the latest the %s serves" % self.described())),
                        installed, receipt)
                if staging is None:
                    staging = make_staging_dir(self.install_dir, tool=self.tool)
                if self.stage_and_swap(artifact, path, actual, installed, staging, unpacked):
                    return None
            finally:
                if path and not local and os.path.exists(path):
                    os.unlink(path)  # the downloaded wheel (src's copy goes with the staging folder)
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
            staged = _archive().extract(path, artifact.fmt, target, artifact.version, staging, self.tool)
        # The version is judged here, not by verify_staged: a wrong one is the source's fault,
        # not this build's, and no other candidate is tried.
        ok, detail = verify_staged(staged, None, self.run_cmd, target, artifact.fmt, self.tool)
        if not ok:
            self.notes.add(target, "served; %s" % detail)
            return False
        if not self.wanted(detail):
            self.notes.add(target, "served; %s %s, not %s" % (self.tool.name, detail, self.version))
        self.check_wanted(detail, artifact.url)
        self.notes.add(target, "served; runs (%s %s)" % (self.tool.name, detail))
        url = artifact.url if artifact.source == "src" else redact_url(artifact.url)
        # The receipt goes in with the binaries (last, in the same all-or-nothing swap).
        binaries = install_staged(staged, self.install_dir, receipt={
            "source": artifact.source, "version": detail, "target": target, "artifact": artifact.name,
            "url": url, "sha256": sha256, "binaries": binary_stats(staging, self.tool),
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }, tool=self.tool)
        previous = installed["version"] if installed else None
        passed_over = self.notes.passed_over(self.candidates, target)
        self.result.update(
            changed=True, version=detail, target=target, artifact=artifact.name, url=url, sha256=sha256,
            binaries=binaries, source=artifact.source,
            msg="installed %s %s (%s) in %s%s%s" % (
                self.tool.name, detail, target, self.install_dir,
                ", replacing %s (%s)" % (previous, self.reason) if previous else "",
                "; passed over %s" % "; ".join(passed_over) if passed_over else ""))
        self.result["diff"] = dict(before=_describe(installed), after=_describe({"version": detail, "target": target}))
        return True

    def fail_nothing_installed(self):
        raise nothing_installed(self.notes, self.candidates, self.described(), self.source.tried())

    def finish_none(self, reason, installed, receipt):
        """Report a no-op with what is installed."""
        receipt = receipt if receipt and receipt.get("version") == installed["version"] else {}
        target = installed["target"] or receipt.get("target")
        self.result.update(
            changed=False, msg="%s in %s; nothing to do" % (reason, self.install_dir),
            version=installed["version"], target=target, artifact=receipt.get("artifact"),
            url=receipt.get("url"), sha256=receipt.get("sha256"), source=receipt.get("source"),
            binaries=[self.path(name) for name in self.tool.binaries])

    def path(self, name):
        """The path of ``name`` in the install directory."""
        return os.path.join(self.install_dir, name)

    def lock(self):
        """The lock on the install directory, naming this module in its timeout message."""
        return DirLock(self.install_dir, holder=self.tool.module.rsplit(".", 1)[-1])

    # -- flows -------------------------------------------------------------

    def present(self):
        installed, receipt, problem = self.local_state()
        self.result["previous_version"] = installed["version"] if installed else None
        action, reason = self.decide(installed, receipt, problem)
        self.reason = reason
        if action == "none":
            self.finish_none(reason, installed, receipt)
            if not self.module.check_mode and has_staging_debris(self.install_dir, self.tool):
                with self.lock():
                    remove_stale_staging(self.install_dir, self.tool)
            return
        if problem and not self.module.check_mode:
            self.module.warn("%s; it will be rewritten" % problem)
        if self.module.check_mode or self.params["plan_only"]:
            return self.plan(installed, receipt, reason)
        ensure_install_dir(self.install_dir)
        with self.lock():
            remove_stale_staging(self.install_dir, self.tool)
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
            changed=True, version=after, target=target, binaries=[self.path(name) for name in self.tool.binaries],
            source=self.source.kind if not self.params["src"] else "src", plan=dict(
                reason=reason, candidates=self.candidates, installed=installed, receipt=receipt),
            msg="would install %s %s in %s: %s (the %s decides between %s)" % (
                self.tool.name, self.version, self.install_dir, reason, self.source.describe(), ", ".join(self.candidates)))
        if not self.params["plan_only"]:
            self.result.pop("plan")
        self.result["diff"] = dict(before=_describe(installed), after=_describe({"version": after or "latest",
                                                                                "target": target}))

    def absent(self):
        receipt_name = self.tool.receipt
        names = [self.path(name) for name in self.tool.binaries + (receipt_name,)]
        present = [path for path in names if os.path.lexists(path)]
        installed = installed_state(names[0], self.run_cmd, tool=self.tool)
        self.result.update(previous_version=installed["version"] if installed else None,
                           binaries=[p for p in present if not p.endswith(receipt_name)])
        if not present:
            self.result["msg"] = "%s is not installed in %s; nothing to do" % (self.tool.name, self.install_dir)
            return
        self.result["changed"] = True
        self.result["diff"] = dict(before=_describe(installed), after=_describe(None))
        if self.module.check_mode:
            self.result["msg"] = "would remove %s" % ", ".join(present)
            return
        with self.lock():
            removed = remove_install(self.install_dir, self.tool)
            remove_stale_staging(self.install_dir, self.tool)
        self.result["msg"] = "removed %s" % ", ".join(removed)

    def trust(self):
        """Refuse an ``install_dir`` whose binaries another user could have put there: they are run next."""
        refusal, warnings = install_dir_trust(self.install_dir, self.tool)
        for warning in warnings:
            self.module.warn(warning)
        if refusal:
            raise InstallError("refusing to run or install %s in %s: %s" % (self.tool.name, self.install_dir, refusal))

    def run(self):
        self.validate()
        self.trust()
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


def install_argument_spec():
    """The argument spec of uv_install, ruff_install and ty_install (one set of options)."""
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
    return spec


def run_module(tool, module_class):
    """The whole of an install module's ``main()`` for ``tool`` (a name or a row of ``tools.TOOLS``).

    ``module_class`` is the face's own ``AnsibleModule`` (the face imports it, so that a
    tool that inspects modules one after the other sees each face's own import).
    """
    # The URL secrets (user info, query values) are masked before the argument spec is checked.
    module_class = masking_module_class(module_class, ("mirror_url", "index_url", "checksum", "headers"))
    module = module_class(argument_spec=install_argument_spec(), supports_check_mode=True,
                          mutually_exclusive=[("mirror_url", "index_url"), ("src", "index_url")])
    runner = ToolInstall(module, tool)
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
