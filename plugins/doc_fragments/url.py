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
      - User name for HTTP authentication at the mirror or index.
      - Like every credential (O(headers), user info in O(mirror_url) or O(index_url), a
        C(~/.netrc) entry for the host), it belongs to the origin (scheme, host and port) of
        the source, O(mirror_url) or O(index_url) (uv's GitHub releases when neither is set),
        and is sent to every URL on that origin (an index's absolute file links on the same
        host too) and to no other, so not to a O(checksum) URL, a file link or a redirect target
        on another origin (an Artifactory or Nexus answering 302 to S3 or a CDN with a
        presigned URL). Redirects are followed by the module itself, at most 10 of them.
      - User info in the source URL (C(https://__token__:TOKEN@gitlab.example.com/...)) is
        sent with the first request, as uv and pip send it; user info in a O(checksum) URL
        goes to that URL's own origin only.
    type: str
  url_password:
    description:
      - Password for HTTP authentication at the mirror or index. Never shown in results or logs.
      - Sent only to the origin of the source, never to another scheme, host or port (see
        O(url_username)).
    type: str
  force_basic_auth:
    description:
      - Send the basic authentication header of O(url_username) and O(url_password) with the
        first request instead of waiting for a 401 challenge (as ansible's C(fetch_url)
        does, on the host and on the controller alike).
      - The header goes to the source's own origin only (see O(url_username)).
    type: bool
    default: false
  headers:
    description:
      - Extra HTTP headers for every request, for example C(Authorization) or an API token.
      - The values are treated as secrets and never shown in results or logs.
      - All of them (with C(Authorization), C(Proxy-Authorization) and C(Cookie)) are sent
        only to the origin of the source (see O(url_username)); on a redirect to another
        scheme, host or port they are dropped, as curl does, and sent again on a URL of
        the source's origin. Redirects to anything but C(http://) or C(https://) are refused.
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
