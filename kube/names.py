"""Kubernetes name and label syntax (apimachinery's rules), so the loader refuses what the API server would.

The engine keys endpoints by names and matches selectors on labels; an object whose name or labels the API
server would refuse cannot exist in a cluster, so an answer about it would be an answer about nothing.
Each function returns None when the value is valid, else the reason, phrased to follow the value.
"""

from __future__ import annotations

import re

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL + r"\Z")
_DNS1123_SUBDOMAIN = re.compile(_LABEL + r"(\." + _LABEL + r")*\Z")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_QUALIFIED_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
# A CronJob's Jobs are named <cronjob>-<11 characters of schedule time>, and must stay DNS-1035-label sized.
CRONJOB_NAME_MAX = 52

_LABEL_TEXT = "a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit)"
_SUBDOMAIN_TEXT = ("a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', each dot-separated part starting and "
                   "ending with a letter or digit)")
_DNS1035_TEXT = "a lowercase RFC 1035 label (a-z, 0-9 and '-', starting with a letter, ending with a letter or digit)"
_PART_TEXT = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"

# Kinds whose names are not DNS-1123 subdomains (core and RBAC validation).
_LABEL_NAMED = ("Namespace",)
_DNS1035_NAMED = ("Service",)
_PATH_SEGMENT_NAMED = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def _too_long(value: str, limit: int) -> str | None:
    return f"must be at most {limit} characters (is {len(value)})" if len(value) > limit else None


def dns1123_label(value: str) -> str | None:
    return _too_long(value, LABEL_MAX) or (None if _DNS1123_LABEL.match(value) else f"must be {_LABEL_TEXT}")


def dns1123_subdomain(value: str) -> str | None:
    return _too_long(value, SUBDOMAIN_MAX) or (
        None if _DNS1123_SUBDOMAIN.match(value) else f"must be {_SUBDOMAIN_TEXT}")


def dns1035_label(value: str) -> str | None:
    return _too_long(value, LABEL_MAX) or (None if _DNS1035_LABEL.match(value) else f"must be {_DNS1035_TEXT}")


def path_segment(value: str) -> str | None:
    if value in (".", ".."):
        return f"may not be '{value}'"
    for bad in ("/", "%"):
        if bad in value:
            return f"may not contain '{bad}'"
    return None


def name(kind: str, value: str) -> str | None:
    """Why `value` is not a valid metadata.name for `kind`, or None."""
    if kind in _LABEL_NAMED:
        return dns1123_label(value)
    if kind in _DNS1035_NAMED:
        return dns1035_label(value)
    if kind in _PATH_SEGMENT_NAMED:
        return path_segment(value)
    if kind == "CronJob":
        return dns1123_subdomain(value) or _too_long(value, CRONJOB_NAME_MAX)
    return dns1123_subdomain(value)


def qualified_name(key: str) -> str | None:
    """Label (and annotation) keys: an optional DNS-subdomain prefix and '/', then a name part of at most 63."""
    prefix, slash, part = key.rpartition("/")
    if slash:
        if not prefix:
            return "has an empty prefix before '/'"
        why = dns1123_subdomain(prefix)
        if why:
            return f"has prefix '{prefix}' that {why}"
    if not part:
        return "has an empty name part"
    if len(part) > LABEL_MAX:
        return f"has a name part of {len(part)} characters (at most {LABEL_MAX})"
    if not _QUALIFIED_PART.match(part):
        return f"has name part '{part}' that must use only {_PART_TEXT}"
    return None


def label_value(value: str) -> str | None:
    if not value:
        return None
    if len(value) > LABEL_MAX:
        return f"must be at most {LABEL_MAX} characters (is {len(value)})"
    return None if _QUALIFIED_PART.match(value) else f"must be empty or use only {_PART_TEXT}"


INT32_MAX = 2**31 - 1


def env_var_name(value: str) -> str | None:
    """An environment variable name (the API server's relaxed rule, default since 1.32: any printable ASCII but
    '='; the stricter C-identifier rule of older versions is a subset)."""
    if not value:
        return "must not be empty"
    if "=" in value or not all(" " <= c <= "~" for c in value):
        return "must be printable ASCII without '='"
    return None
