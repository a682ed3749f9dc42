"""Constrained scalar types of the stack config, each failing with a message a platform engineer can act on."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

# Kubernetes' name and label syntax is decided in one place (the engine's loader uses it too); this module only
# words the answer for a config path.
from kube import names

QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$")


# Pulumi carries resource inputs as protobuf doubles: an integer beyond 2**53 arrives as a different number.
MAX_EXACT_INT = 2**53 - 1
# Replicas, user and group ids are int32 in the Kubernetes API.
MAX_INT32 = names.INT32_MAX


def _strict_int(value: Any, what: str) -> int:
    # bool is an int in Python; `port: true` is a typo, not port 1.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
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


def _cidr(value: Any) -> str:
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
    return network.with_prefixlen


def _quantity(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError(f"must be a Kubernetes quantity such as '500m', '2' or '8Gi', got {value!r}")
    text = str(value) if isinstance(value, (int, float)) else _string(value, "a quantity")
    if not QUANTITY.match(text):
        raise ValueError(f"'{text}' is not a Kubernetes quantity (e.g. '500m', '2', '8Gi')")
    return text


def _image(value: Any) -> str:
    text = _string(value, "a container image reference")
    if not IMAGE.match(text) or text.endswith((":", "@", "/")):
        raise ValueError(f"'{text}' is not a container image reference (e.g. 'nginx:1.27')")
    return text


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
Cidr = Annotated[str, BeforeValidator(_cidr)]
Quantity = Annotated[str, BeforeValidator(_quantity), PlainSerializer(str)]
Image = Annotated[str, BeforeValidator(_image)]
LabelMap = Annotated[dict[str, str], BeforeValidator(_label_map)]
