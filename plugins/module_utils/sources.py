# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a tool's artifact comes from: one name for the pure source rooms.

Kept so that code written before the split keeps its imports; the collection's own
code imports from the rooms themselves, so that a host only receives what it runs:

- ``artifact``: one downloadable build (``Artifact``) and URL hygiene
- ``release_mirrors``: ``mirror_url`` templates, checksum files, ``ReleaseMirror``
- ``index_pages``: PEP 503/691 project pages, streamed (``IndexPageParser``)
- ``wheel_tags``: which build a wheel holds
- ``version_options``: the ``version`` option and the source options' argument spec
- ``tools``: the tools themselves (uv, ruff, ty), as data

Pure: no I/O. Runs on Python 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import Artifact, redact_url, url_password
from ansible_collections.pyfleet.uv.plugins.module_utils.index_pages import (
    INDEX_ACCEPT,
    PROJECT,
    IndexPage,
    IndexPageParser,
    describe_yanked,
    project_url,
    validate_index_url,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import (
    DEFAULT_MIRROR,
    ReleaseMirror,
    artifact_name_for,
    checksum_url,
    parse_checksum_file,
    parse_checksum_option,
    render_url,
    validate_template,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import (
    check_version_option,
    is_specifier,
    mirror_check_argument_spec,
    source_argument_spec,
    version_key,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.wheel_tags import (
    expand_tag_set,
    parse_wheel_name,
    target_build,
    wheel_build,
    wheel_metadata_platforms,
)

__all__ = [
    "INDEX_ACCEPT",
    "PROJECT",
    "check_version_option",
    "describe_yanked",
    "is_specifier",
    "mirror_check_argument_spec",
    "source_argument_spec",
    "Artifact",
    "IndexPage",
    "IndexPageParser",
    "ReleaseMirror",
    "artifact_name_for",
    "parse_wheel_name",
    "project_url",
    "target_build",
    "validate_index_url",
    "version_key",
    "wheel_build",
    "DEFAULT_MIRROR",
    "checksum_url",
    "expand_tag_set",
    "parse_checksum_file",
    "parse_checksum_option",
    "redact_url",
    "render_url",
    "url_password",
    "validate_template",
    "wheel_metadata_platforms",
]
