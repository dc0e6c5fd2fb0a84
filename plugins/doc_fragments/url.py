# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The HTTP client options shared by modules that talk to a uv mirror."""

    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Whether to validate the mirror's TLS certificate.
      - Set O(ca_path) for a private CA rather than turning this off.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of CA certificates to trust for the mirror, for example an internal CA.
    type: path
  use_proxy:
    description:
      - Whether to honour the C(http_proxy), C(https_proxy) and C(no_proxy) environment variables.
    type: bool
    default: true
  url_username:
    description:
      - User name for HTTP authentication at the mirror.
    type: str
  url_password:
    description:
      - Password for HTTP authentication at the mirror. Never shown in results or logs.
    type: str
  force_basic_auth:
    description:
      - Send the basic authentication header with the first request instead of waiting
        for a 401 challenge.
    type: bool
    default: false
  headers:
    description:
      - Extra HTTP headers for every request, for example C(Authorization) or an API token.
      - The values are treated as secrets and never shown in results or logs.
    type: dict
  client_cert:
    description:
      - PEM file with a client certificate (and, if O(client_key) is not set, its key) for mutual TLS.
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert).
    type: path
  http_agent:
    description:
      - The User-Agent header sent to the mirror.
    type: str
    default: ansible-httpget
"""
