"""Constrained scalar types of the stack config, each failing with a message a platform engineer can act on."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

# Kubernetes' name and label syntax is decided in one place (the engine's loader uses it too); this module only
# words the answer for a config path.
from kube import names
from kube.endpoints import Network

# Kubernetes' quantity grammar (resource.Quantity): a decimal number, then a binary or decimal SI suffix or a
# decimal exponent (`1e3`, `2E-3`).
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
# Suffixes that make a quantity smaller than its number: fine for CPU (`500m`), nonsense for bytes.
_SUB_UNIT = ("n", "u", "m")

# Image references: the distribution/reference grammar Docker and containerd parse with.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE = re.compile(rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
                   rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
MAX_IMAGE_NAME = 255


# Pulumi carries resource inputs as protobuf doubles: an integer beyond 2**53 arrives as a different number.
MAX_EXACT_INT = 2**53 - 1
# Replicas, user and group ids are int32 in the Kubernetes API.
MAX_INT32 = names.INT32_MAX


def _strict_int(value: Any, what: str) -> int:
    # bool is an int in Python; `port: true` is a typo, not port 1.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):  # not isdigit(): '²' is a digit
            value = int(value.strip())
        else:
            raise ValueError(f"must be {what}, got {value!r}")
    if abs(value) > MAX_EXACT_INT:
        raise ValueError(f"{value} cannot be carried exactly: Pulumi passes numbers as doubles, exact only up to "
                         f"{MAX_EXACT_INT} (it would arrive as {int(float(value))})")
    return value


def _port(value: Any) -> int:
    port = _strict_int(value, "a port number")
    if not 1 <= port <= 65535:
        raise ValueError(f"must be between 1 and 65535, got {port}")
    return port


def _non_negative(value: Any) -> int:
    number = _strict_int(value, "a whole number")
    if number < 0:
        raise ValueError(f"must be 0 or more, got {number}")
    return number


def _positive(value: Any) -> int:
    number = _strict_int(value, "a whole number")
    if number < 1:
        raise ValueError(f"must be 1 or more, got {number}")
    return number


def _replicas(value: Any) -> int:
    number = _non_negative(value)
    if number > MAX_INT32:
        raise ValueError(f"must be at most {MAX_INT32} (a Kubernetes int32), got {number}")
    return number


def _user_id(value: Any) -> int:
    number = _positive(value)
    if number > MAX_INT32:
        raise ValueError(f"must be at most {MAX_INT32}: the API server refuses larger user and group ids, got {number}")
    return number


def _env(value: Any) -> dict[str, str]:
    """Environment variables: names as the API server accepts them (non-empty printable ASCII without '=')."""
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of variable names to values, got {value!r}")
    # Keys that are not strings are left to the dict[str, str] validation that follows, which words it.
    bad = [name for name in value if isinstance(name, str) and names.env_var_name(name) is not None]
    if bad:
        names_text = ", ".join(repr(n) for n in bad)
        raise ValueError(f"{names_text} {'is not a variable name' if len(bad) == 1 else 'are not variable names'}: "
                         "names are non-empty printable ASCII without '=', as the API server requires")
    return value  # values: the dict[str, str] validation that follows says which one is not a string


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be {what} (a string), got {value!r}")
    return value


def _dns_label(value: Any) -> str:
    name = _string(value, "a name")
    if len(name) > 63:
        raise ValueError(f"'{name}' is {len(name)} characters; a Kubernetes name label allows at most 63")
    if names.dns1123_label(name):
        raise ValueError(
            f"'{name}' is not a valid Kubernetes name: use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def _app_name(value: Any) -> str:
    name = _dns_label(value)
    if names.dns1035_label(name):
        raise ValueError(f"'{name}' must start with a letter: it names Services (DNS-1035 labels)")
    return name


def _cidr(value: Any) -> Network:
    text = _string(value, "a CIDR")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"'{text}' is not a valid CIDR (expected e.g. 203.0.113.0/24 or 2001:db8::/32)") from None
    if "/" not in text:
        raise ValueError(f"'{text}' has no prefix length; write {network.with_prefixlen}")
    # Ask ipaddress itself: comparing spellings misreads '2001:DB8::/32' or '2001:db8:0::/48' as having host bits.
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise ValueError(f"'{text}' has host bits set; the network is {network.with_prefixlen}") from None
    return network


def _quantity(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"must be a Kubernetes quantity such as '500m', '2' or '8Gi', got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON config values (`pulumi config set`) carry 1e3 as 1000.0
    text = str(value) if isinstance(value, (int, float)) else _string(value, "a quantity")
    if not QUANTITY.match(text):
        raise ValueError(f"'{text}' is not a Kubernetes quantity (e.g. '500m', '2', '8Gi')")
    return text


def _bytes(value: Any) -> str:
    """A quantity of bytes: `m` (milli), `u`, `n` make no sense there, and `128m` is a typo for `128Mi`."""
    text = _quantity(value)
    if text.endswith(_SUB_UNIT):
        number, suffix = text[:-1], text[-1]
        if suffix == "m":
            raise ValueError(f"'{text}' means {number} thousandths of a byte ('m' is milli); write '{number}Mi' "
                             f"(mebibytes) or '{number}M' (megabytes)")
        raise ValueError(f"'{text}' is a fraction of a byte; use a byte suffix such as Mi or Gi")
    return text


def _image(value: Any) -> str:
    text = _string(value, "a container image reference")
    match = IMAGE.match(text)
    if match is None or len(match.group("name")) > MAX_IMAGE_NAME:
        name = text.split("@", 1)[0]
        path = name.split("/", 1)[1] if "/" in name and any(c in name.split("/", 1)[0] for c in ".:") else name
        repository = path.rsplit(":", 1)[0] if ":" in path.rsplit("/", 1)[-1] else path
        if repository != repository.lower():
            why = ": repository names are lower case"
        elif match is not None:
            why = f": the name is longer than {MAX_IMAGE_NAME} characters"
        else:
            why = ""
        raise ValueError(f"'{text}' is not a container image reference{why} (e.g. 'nginx:1.27')")
    return text


def _dns_subdomain(value: Any) -> str:
    name = _string(value, "a name")
    if names.dns1123_subdomain(name):
        raise ValueError(f"'{name}' is not a valid Kubernetes object name: lower-case letters, digits, '-' and '.', "
                         "starting and ending with a letter or digit, at most 253 characters")
    return name


def _writable_path(value: Any) -> str:
    path = _string(value, "an absolute path")
    if not path.startswith("/"):
        raise ValueError(f"{path!r} must be an absolute path")
    parts = path.split("/")
    if ".." in parts or "." in parts:
        raise ValueError(f"{path!r} must not contain '.' or '..' (write the directory it means)")
    if path.rstrip("/") == "":
        raise ValueError("'/' would mount an empty directory over the whole root filesystem; name the "
                         "directories the program writes to")
    return path


def _label_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of label keys to values, got {value!r}")
    if not value:
        raise ValueError("must name at least one label; an empty selector would select every pod")
    for key, val in value.items():
        check_label_key(key)
        check_label_value(key, val)
    return {str(k): str(v) for k, v in value.items()}


def check_label_key(key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError(f"label key {key!r} must be a non-empty string")
    if not names.qualified_name(key):
        return
    prefix, slash, _ = key.rpartition("/")
    if slash and (not prefix or names.dns1123_subdomain(prefix)):
        raise ValueError(f"label key '{key}': prefix must be a DNS subdomain")
    raise ValueError(f"label key '{key}' is not a valid label name")


def check_label_value(key: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ValueError(f"label '{key}' must have a string value, got {value!r}")
    if names.label_value(value):
        raise ValueError(f"label '{key}' has an invalid value '{value}'")


Port = Annotated[int, BeforeValidator(_port)]
Replicas = Annotated[int, BeforeValidator(_replicas)]
UserId = Annotated[int, BeforeValidator(_user_id)]
EnvVars = Annotated[dict[str, str], BeforeValidator(_env)]
PositiveInt = Annotated[int, BeforeValidator(_positive)]
DnsLabel = Annotated[str, BeforeValidator(_dns_label)]
AppName = Annotated[str, BeforeValidator(_app_name)]
# Parsed once here, so no consumer re-parses a range; written back as the canonical text (`str(network)`) wherever
# the model is dumped (Pulumi values, the CrossGuard pack's reading).
Cidr = Annotated[Network, BeforeValidator(_cidr), PlainSerializer(str)]
Quantity = Annotated[str, BeforeValidator(_quantity), PlainSerializer(str)]
Bytes = Annotated[str, BeforeValidator(_bytes), PlainSerializer(str)]
DnsSubdomain = Annotated[str, BeforeValidator(_dns_subdomain)]
WritablePath = Annotated[str, BeforeValidator(_writable_path)]
Image = Annotated[str, BeforeValidator(_image)]
LabelMap = Annotated[dict[str, str], BeforeValidator(_label_map)]
