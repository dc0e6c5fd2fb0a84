# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uv.toml key table against the real uv binaries the suite uses.

uv 0.13.8 (the table's ``UV_VERSION``) must know exactly the table's keys, accept a file
holding every key the module lets through (written by the module's own renderer), and
refuse each key the table marks project-only. uv 0.5.11 and 0.13.9 differ by the
recorded sets below, the "which keys differ" note of the table.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.config._uv_config import render
from ansible_collections.pyfleet.uv.plugins.module_utils.config._uv_settings import (
    DEPRECATED,
    INDEX_KEYS,
    PROJECT_ONLY,
    SETTINGS,
    UV_VERSION,
)
from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.real_uv import needs_mirror, real_uv

pytestmark = needs_mirror

# Keys of the 0.13.8 table that uv 0.5.11 does not know (checked against its binary below).
NOT_IN_0_5_11 = {
    "add-bounds", "audit", "build-constraint-dependencies", "config-settings-package", "exclude-dependencies",
    "exclude-newer-package", "extra-build-dependencies", "extra-build-variables", "graalpy-install-mirror",
    "http-proxy", "https-proxy", "minimum-libc-version", "no-proxy", "no-sources-package", "preview-features",
    "prerelease-package", "pyodide-install-mirror", "python-downloads-json-url", "require-build-hashes",
    "required-environments", "required-version", "system-certs", "torch-backend", "dependency-groups",
}
# Keys uv 0.13.9 knows beyond the 0.13.8 table, and the reverse (none: the patch release added no keys).
ONLY_IN_0_13_9: set = set()
NOT_IN_0_13_9: set = set()

URLISH = re.compile(r"(url|mirror|proxy|find-links)$")
SAMPLE_STRINGS = {
    "required-version": ">=0.5",
    "exclude-newer": "2024-01-01T00:00:00Z",
    "cache-dir": "/tmp/uv-cache",
    "target": "/tmp/uv-target",
    "prefix": "/tmp/uv-prefix",
    "output-file": "/tmp/uv-requirements.txt",
    "python": "3.12",
    "python-version": "3.12",
    "no-proxy": "localhost",
    "allow-insecure-host": "localhost",
}


def sample(name: str, spec: dict):
    """A value of ``spec``'s type that uv accepts for key ``name``."""
    types = spec["type"]
    if "string" in types and (spec.get("choices") or name in SAMPLE_STRINGS or URLISH.search(name)):
        if spec.get("choices"):
            return spec["choices"][0]
        return SAMPLE_STRINGS.get(name) or "http://127.0.0.1:9/simple"
    if "boolean" in types:
        return False
    if "integer" in types:
        return spec.get("minimum") or 1
    if "array" in types:
        item = spec.get("items") or {}
        if item.get("type") == ["string"] and (item.get("choices") or name in SAMPLE_STRINGS or URLISH.search(name)):
            return [sample(name, item)]
        return []  # markers, requirements, package names: an empty list is of the right type
    if "object" in types:
        return {}
    if "string" in types:
        return "x"
    raise AssertionError("no sample for %s %r" % (name, spec))


def uv_run(uv: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([uv, "--config-file", path, "--cache-dir", os.path.dirname(path), "cache", "dir"],
                          capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"), check=False)


def uv_fields(uv: str, tmp_path, table: str | None = None) -> set:
    path = tmp_path / ("fields-%s.toml" % (table or "top"))
    path.write_text(("[%s]\n" % table if table else "") + "not-a-uv-setting = 1\n")
    proc = uv_run(uv, str(path))
    assert proc.returncode != 0 and "expected one of" in proc.stderr, proc.stderr
    return set(re.findall(r"`([a-z0-9-]+)`", proc.stderr.split("expected one of", 1)[1]))


@pytest.fixture(scope="module")
def binaries(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("uv-binaries"))
    return {version: real_uv(version, root) for version in ("0.5.11", "0.13.8", "0.13.9")}


@pytest.fixture
def uv(binaries):
    if not binaries[UV_VERSION]:
        pytest.fail("the mirror holds no uv %s for this machine" % UV_VERSION)
    return binaries[UV_VERSION]


def test_table_is_for_the_suites_newest_uv(uv):
    out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == UV_VERSION


def test_table_keys_are_exactly_uvs_own(uv, tmp_path):
    assert set(SETTINGS) == uv_fields(uv, tmp_path)
    assert set(SETTINGS["pip"]["keys"]) == uv_fields(uv, tmp_path, "pip")


def test_every_allowed_key_in_one_file_is_accepted(uv, tmp_path):
    # uv refuses `preview` beside `preview-features` ("cannot specify both"): preview is
    # checked on its own in test_no_other_key_is_project_only.
    document = {name: sample(name, spec) for name, spec in SETTINGS.items()
                if name not in PROJECT_ONLY and name not in ("index", "pip", "preview")}
    document["pip"] = {name: sample(name, spec) for name, spec in SETTINGS["pip"]["keys"].items()}
    document["index"] = [{name: sample(name, spec) for name, spec in INDEX_KEYS.items()}]
    document["index"][0].update({"name": "corp", "url": "http://127.0.0.1:9/simple"})
    path = tmp_path / "uv.toml"
    path.write_text(render(document))
    proc = uv_run(uv, str(path))
    assert proc.returncode == 0, proc.stderr
    # uv warns about nothing but the deprecated keys (which are set to false here)
    warned = set(re.findall(r"The `([a-z0-9-]+)` setting is deprecated", proc.stderr))
    assert warned <= set(DEPRECATED), proc.stderr


@pytest.mark.parametrize("name", sorted(PROJECT_ONLY))
def test_project_only_keys_are_refused_by_uv(uv, tmp_path, name):
    path = tmp_path / "uv.toml"
    value = {"glibc": "2.17"} if name == "minimum-libc-version" else sample(name, SETTINGS[name])
    path.write_text(render({name: value}))
    proc = uv_run(uv, str(path))
    assert proc.returncode != 0
    assert "The `%s` field is not allowed in a `uv.toml` file" % name in proc.stderr


def test_no_other_key_is_project_only(uv, tmp_path):
    for name, spec in SETTINGS.items():
        if name in PROJECT_ONLY:
            continue
        path = tmp_path / "uv.toml"
        path.write_text(render({name: sample(name, spec)}))
        proc = uv_run(uv, str(path))
        assert proc.returncode == 0, (name, proc.stderr)


@pytest.mark.parametrize("text, fragment", [
    ('python-install-mirrors = "x"\n', "unknown field `python-install-mirrors`"),
    ('concurrent-downloads = "4"\n', 'invalid type: string "4"'),
    ("system-certs = 1\n", "invalid type: integer `1`, expected a boolean"),
    ('[pip]\nindex-urll = "x"\n', "unknown field `index-urll`"),
    ("[[index]]\nname = \"x\"\n", "missing field `url`"),
], ids=["unknown-key", "wrong-type", "wrong-type-2", "nested-unknown", "index-without-url"])
def test_uv_itself_rejects_what_the_module_rejects(uv, tmp_path, text, fragment):
    path = tmp_path / "uv.toml"
    path.write_text(text)
    proc = uv_run(uv, str(path))
    assert proc.returncode == 2 and fragment in proc.stderr


def test_native_tls_is_deprecated_by_uv(uv, tmp_path):
    path = tmp_path / "uv.toml"
    path.write_text("native-tls = true\n")
    proc = uv_run(uv, str(path))
    assert proc.returncode == 0
    assert "warning: The `native-tls` setting is deprecated" in proc.stderr and "`system-certs`" in proc.stderr
    assert DEPRECATED["native-tls"] == "system-certs"


def test_older_uv_differs_by_the_recorded_keys(binaries, tmp_path):
    if not binaries["0.5.11"]:
        pytest.fail("the mirror holds no uv 0.5.11 for this machine")
    fields = uv_fields(binaries["0.5.11"], tmp_path)
    assert set(SETTINGS) - fields == NOT_IN_0_5_11
    assert fields - set(SETTINGS) == set()


def test_newer_uv_differs_by_the_recorded_keys(binaries, tmp_path):
    if not binaries["0.13.9"]:
        pytest.skip("no uv 0.13.9 wheel in the cache")
    fields = uv_fields(binaries["0.13.9"], tmp_path)
    assert fields - set(SETTINGS) == ONLY_IN_0_13_9
    assert set(SETTINGS) - fields == NOT_IN_0_13_9
