# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_mirror_check's decisions: facts read, per-host walk, what is missing, the message.

The source is a table (target -> what the mirror would say); the real source client is
exercised by the integration target against loopback mirrors and indexes.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.targets import candidate_targets
from ansible_collections.pyfleet.uv.plugins.plugin_utils._mirror_check import (
    ArtifactCheck,
    fleet_candidates,
    known_targets,
    plan,
    report,
)

X_GNU, X_MUSL = "x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"
A_GNU, A_MUSL = "aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"
P_GNU = "powerpc64le-unknown-linux-gnu"
EVERYTHING = (X_GNU, X_MUSL, A_GNU, A_MUSL, P_GNU)

# A fleet as uv_facts would describe it: host -> candidates best first.
FLEET = OrderedDict([
    ("web1", candidate_targets("x86_64", "glibc", "2.28")),
    ("web2", candidate_targets("x86_64", "glibc", "2.36")),
    ("alpine", candidate_targets("x86_64", "musl", "1.2.4")),
    ("arm1", candidate_targets("aarch64", "glibc", "2.31")),
    ("arm2", candidate_targets("aarch64", "glibc", "2.31")),
    ("oldarm", candidate_targets("aarch64", "glibc", "2.17")),  # too old for aarch64's gnu build (2.28)
])


class Source:
    """A table of served targets; counts how often each target is asked."""

    def __init__(self, served, problem=None):
        self.served = set(served)
        self.problem = problem or {}
        self.asked = []

    def __call__(self, target):
        self.asked.append(target)
        name = "uv-%s.tar.gz" % target
        served = target in self.served
        return ArtifactCheck(target, name, "http://mirror/0.13.8/" + name, served=served,
                             sha256="ab" * 32 if served else None, checksum="sidecar" if served else None,
                             note="served" if served else "not served (HTTP 404)", problem=self.problem.get(target))


def test_the_fleet_candidates_are_what_the_table_says():
    assert FLEET["web1"] == [X_GNU, X_MUSL]
    assert FLEET["alpine"] == [X_MUSL]
    assert FLEET["oldarm"] == [A_MUSL]


@pytest.mark.parametrize(
    "served, expect, missing, asked",
    [
        pytest.param(EVERYTHING, {"web1": (X_GNU, False), "alpine": (X_MUSL, False), "arm1": (A_GNU, False),
                                  "oldarm": (A_MUSL, False)},
                     {}, [X_GNU, X_MUSL, A_GNU, A_MUSL], id="all-served"),
        pytest.param((X_GNU, X_MUSL, A_MUSL), {"web1": (X_GNU, False), "arm1": (A_MUSL, True),
                                               "arm2": (A_MUSL, True), "oldarm": (A_MUSL, False)},
                     {A_GNU: ["arm1", "arm2"]}, [X_GNU, X_MUSL, A_GNU, A_MUSL], id="no-aarch64-gnu"),
        pytest.param((X_MUSL, A_MUSL), {"web1": (X_MUSL, True), "web2": (X_MUSL, True), "alpine": (X_MUSL, False),
                                        "arm1": (A_MUSL, True)},
                     {X_GNU: ["web1", "web2"], A_GNU: ["arm1", "arm2"]}, [X_GNU, X_MUSL, A_GNU, A_MUSL],
                     id="musl-only"),
        pytest.param((X_GNU, A_GNU), {"web1": (X_GNU, False), "alpine": (None, False), "arm1": (A_GNU, False),
                                      "oldarm": (None, False)},
                     {X_MUSL: ["alpine"], A_MUSL: ["oldarm"]}, [X_GNU, X_MUSL, A_GNU, A_MUSL], id="gnu-only"),
        pytest.param((), {"web1": (None, False), "arm1": (None, False)},
                     {X_GNU: ["web1", "web2"], X_MUSL: ["alpine"], A_GNU: ["arm1", "arm2"], A_MUSL: ["oldarm"]},
                     [X_GNU, X_MUSL, A_GNU, A_MUSL], id="empty-mirror"),
    ],
)
def test_each_host_takes_its_best_served_candidate(served, expect, missing, asked):
    source = Source(served)
    result = plan(FLEET, source)
    for host, (target, fallback) in expect.items():
        assert result.hosts[host]["target"] == target, host
        assert result.hosts[host]["fallback"] is fallback, host
        assert result.hosts[host]["candidates"] == FLEET[host]
    assert dict(result.missing) == missing
    # Each distinct target is asked once, whatever the number of hosts that need it.
    assert source.asked == asked


def test_a_served_best_build_costs_no_question_about_the_others():
    source = Source(EVERYTHING)
    result = plan(OrderedDict([("web1", [X_GNU, X_MUSL]), ("web2", [X_GNU, X_MUSL])]), source)
    assert source.asked == [X_GNU]
    assert result.checks[X_GNU].hosts == ["web1", "web2"]


def test_artifact_hosts_are_the_hosts_that_asked():
    result = plan(FLEET, Source((X_GNU, X_MUSL, A_MUSL)))
    hosts = {c.target: c.hosts for c in result.checks.values()}
    assert hosts[A_GNU] == ["arm1", "arm2"]  # wanted it, went on
    assert hosts[A_MUSL] == ["arm1", "arm2", "oldarm"]  # would get it
    assert hosts[X_MUSL] == ["alpine"]


def test_fallback_is_a_warning_and_the_message_says_what_to_publish():
    fields, warnings, failed = report(plan(FLEET, Source((X_GNU, X_MUSL, A_MUSL))), "0.13.8", "mirror http://m/")
    assert not failed
    assert fields["hosts"]["arm1"] == {"target": A_MUSL, "fallback": True, "candidates": [A_GNU, A_MUSL]}
    assert fields["missing"] == [{"target": A_GNU, "artifact": "uv-%s.tar.gz" % A_GNU,
                                  "url": "http://mirror/0.13.8/uv-%s.tar.gz" % A_GNU,
                                  "reason": "not served (HTTP 404)", "hosts": ["arm1", "arm2"]}]
    assert len(warnings) == 1
    assert warnings[0].startswith("publish uv-aarch64-unknown-linux-gnu.tar.gz for 0.13.8 (not served (HTTP 404)): "
                                  "2 hosts need it (arm1, arm2); 2 hosts would fall back to " + A_MUSL)
    assert fields["msg"].startswith("the mirror http://m/ serves uv 0.13.8: ")
    assert "publish uv-aarch64-unknown-linux-gnu.tar.gz" in fields["msg"]
    assert "%s (2 hosts)" % X_GNU in fields["msg"] and "%s (3 hosts)" % A_MUSL in fields["msg"]


def test_a_host_without_a_build_fails_the_task_with_every_candidate_and_why():
    fields, warnings, failed = report(plan(FLEET, Source((X_GNU, A_GNU))), "0.13.8", "mirror http://m/")
    assert failed and not warnings
    assert fields["hosts"]["alpine"]["target"] is None
    assert fields["msg"].startswith("2 hosts would get no uv 0.13.8 build at all: alpine (%s: not served (HTTP 404)); "
                                    "oldarm (%s: not served (HTTP 404))" % (X_MUSL, A_MUSL))
    assert "publish uv-x86_64-unknown-linux-musl.tar.gz for 0.13.8 (not served (HTTP 404)): 1 host needs it " \
           "(alpine); 1 host would get no build at all" in fields["msg"]


def test_a_mixed_missing_build_counts_fallbacks_and_hosts_without_a_build():
    fleet = OrderedDict([("a", [A_GNU, A_MUSL]), ("b", [A_GNU]), ("c", [A_GNU, A_MUSL])])
    fields, _warnings, failed = report(plan(fleet, Source((A_MUSL,))), "0.13.9", "mirror http://m/")
    assert failed
    assert "3 hosts need it (a, b, c); 2 hosts would fall back to %s; 1 host would get no build at all" % A_MUSL \
        in fields["msg"]


def test_a_host_whose_arch_has_no_build_at_all():
    fleet = OrderedDict([("power", candidate_targets("ppc64le", "glibc", "2.12"))])
    assert fleet["power"] == []
    fields, _warnings, failed = report(plan(fleet, Source(EVERYTHING)), "0.13.8", "mirror http://m/")
    assert failed and fields["missing"] == []
    assert "power (no uv build runs there)" in fields["msg"]


def test_many_hosts_are_summarised():
    fleet = OrderedDict(("arm%02d" % i, [A_GNU, A_MUSL]) for i in range(12))
    fields, warnings, _failed = report(plan(fleet, Source((A_MUSL,))), "0.13.9", "mirror http://m/")
    assert "12 hosts need it (arm00, arm01, arm02, arm03, arm04, arm05, arm06, arm07 and 4 more); " \
           "12 hosts would fall back to " + A_MUSL in warnings[0]


def test_a_problem_on_a_build_that_hosts_take_fails_the_task():
    source = Source(EVERYTHING, problem={X_GNU: "the download does not match the sha256 from the sidecar"})
    fields, _warnings, failed = report(plan(FLEET, source), "0.13.8", "mirror http://m/", verify=True)
    assert failed
    assert "uv-x86_64-unknown-linux-gnu.tar.gz: the download does not match the sha256 from the sidecar " \
           "(web1, web2)" in fields["msg"]
    # A problem on a build no host takes does not fail the task.
    source = Source(EVERYTHING, problem={P_GNU: "no checksum"})
    _fields, _warnings, failed = report(plan(FLEET, source), "0.13.8", "mirror http://m/")
    assert not failed


def test_hosts_without_facts_fail_the_task_and_are_named():
    fields, _warnings, failed = report(plan(FLEET, Source(EVERYTHING)), "0.13.8", "mirror http://m/",
                                       without=[{"host": "new1", "reason": "no ansible_facts.uv"}])
    assert failed
    assert fields["without_facts"] == ["new1"]
    assert "1 host without usable uv facts: new1 (no ansible_facts.uv); run pyfleet.uv.uv_facts on them first" \
        in fields["msg"]


def test_explicit_targets_are_each_required():
    source = Source((X_GNU, A_MUSL))
    result = plan(OrderedDict(), source, required=[X_GNU, A_GNU, X_GNU])
    assert source.asked == [X_GNU, A_GNU]
    fields, _warnings, failed = report(result, "0.13.8", "mirror http://m/")
    assert failed and fields["hosts"] == {}
    assert [m["target"] for m in fields["missing"]] == [A_GNU]
    assert "1 build of targets not served: %s" % A_GNU in fields["msg"]
    _fields, _warnings, failed = report(plan(OrderedDict(), Source(EVERYTHING), required=[X_GNU, A_GNU]),
                                        "0.13.8", "mirror http://m/")
    assert not failed


def test_a_served_build_that_hosts_pass_over_is_not_usable():
    # checksum=sha256:<URL of sha256.sum> that does not list the gnu archive: uv_install passes it over.
    def check(target):
        found = ArtifactCheck(target, "uv-%s.tar.gz" % target, "http://m/" + target, served=True,
                              usable=target != X_GNU, note="served")
        return found

    result = plan(OrderedDict([("web1", [X_GNU, X_MUSL])]), check)
    assert result.hosts["web1"] == {"target": X_MUSL, "fallback": True, "candidates": [X_GNU, X_MUSL]}
    assert result.checks[X_GNU].served and not result.checks[X_GNU].usable


class HostVars(dict):
    """Stands in for Ansible's hostvars: a mapping of host name to variables."""


@pytest.mark.parametrize(
    "variables, reason",
    [
        pytest.param({}, "no ansible_facts.uv", id="no-facts-at-all"),
        pytest.param({"ansible_facts": {"distribution": "Debian"}}, "no ansible_facts.uv", id="other-facts"),
        pytest.param({"ansible_facts": {"uv": {"arch": "x86_64"}}},
                     "ansible_facts.uv.targets is not a list of target triples", id="no-targets"),
        pytest.param({"ansible_facts": {"uv": {"targets": "x86_64-unknown-linux-gnu"}}},
                     "ansible_facts.uv.targets is not a list of target triples", id="a-string"),
    ],
)
def test_hosts_without_usable_facts_are_reported(variables, reason):
    hostvars = HostVars(good={"ansible_facts": {"uv": {"targets": [X_GNU, X_MUSL]}}}, bad=variables)
    candidates, without = fleet_candidates(hostvars, ["good", "bad", "ghost", "good"])
    assert candidates == OrderedDict([("good", [X_GNU, X_MUSL])])
    assert without == [{"host": "bad", "reason": reason}, {"host": "ghost", "reason": "not in the inventory"}]


def test_known_targets_cover_the_table():
    known = known_targets()
    assert X_GNU in known and A_MUSL in known and "arm-unknown-linux-musleabihf" in known
    assert None not in known
