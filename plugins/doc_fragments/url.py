# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The HTTP client options shared by modules that talk to a mirror or an index."""

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
      - Like every credential, sent only to the origin (scheme, host and port) of the URL
        asked for. Redirects are followed by the module itself, at most 10 of them; on a
        redirect to another origin (an Artifactory or Nexus answering 302 to S3 or a CDN
        with a presigned URL) no credential is sent there, neither these nor O(headers)
        nor C(~/.netrc) entries. A redirect within the same origin keeps them.
    type: str
  url_password:
    description:
      - Password for HTTP authentication at the mirror. Never shown in results or logs.
      - Sent only to the origin of the URL asked for, never across a redirect to another
        scheme, host or port (see O(url_username)).
    type: str
  force_basic_auth:
    description:
      - Send the basic authentication header with the first request instead of waiting
        for a 401 challenge.
      - The header goes to the mirror's own origin only; after a redirect to another
        scheme, host or port it is left out (see O(url_username)).
    type: bool
    default: false
  headers:
    description:
      - Extra HTTP headers for every request, for example C(Authorization) or an API token.
      - The values are treated as secrets and never shown in results or logs.
      - All of them (with C(Authorization), C(Proxy-Authorization) and C(Cookie)) are sent
        only to the origin of the URL asked for; on a redirect to another scheme, host
        or port they are dropped, as curl does, and kept on a redirect within the same
        origin. Redirects to anything but C(http://) or C(https://) are refused.
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
