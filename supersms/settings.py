"""All configuration, read once from the environment into one frozen object.

Every variable is documented in README.md's configuration table. Durations are seconds, rates per second.
A malformed value raises :class:`~supersms.errors.ConfigError` naming the variable and the rule.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from supersms.errors import ConfigError, InvalidMessage

DEFAULT_API_URL = "https://rest.supersms.co/sms/xml"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_REPORT_ALLOW = "211.233.70.235,211.233.70.236"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Every knob of supersms. Build it with :meth:`from_env`; pass it down, never re-read the environment."""

    api_url: str = DEFAULT_API_URL
    account_id: str | None = None
    password: str | None = field(default=None, repr=False)
    default_sender: str | None = None
    default_country: str = "82"
    redis_url: str = DEFAULT_REDIS_URL
    broker_url: str = DEFAULT_REDIS_URL
    rate_limit_per_s: float = 50.0
    rate_burst: int = 5
    http_method: str = "POST"
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    default_ttl_s: int = 86400
    record_ttl_s: int = 7 * 86400
    pause_s: float = 60.0
    rate_wait_max_s: float = 1.0
    worker_concurrency: int = 32
    report_allow: tuple[Network, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()
    report_path: str = "/"
    report_max_query_bytes: int = 4096
    spool_dir: str = "supersms-spool"
    receiver_workers: int = 2
    report_park_horizon_s: float = 3600.0
    stale_claim_s: float = 60.0
    visibility_timeout_s: int = 100

    @property
    def has_credentials(self) -> bool:
        """True when both the account id and its password are set."""
        return bool(self.account_id and self.password)

    def require_credentials(self) -> None:
        """Raise :class:`ConfigError` unless the account is configured (a worker without it sends nothing)."""
        if not self.account_id:
            raise ConfigError("SUPERSMS_ID", "is required to send; set the SuperSMS account id")
        if not self.password:
            raise ConfigError("SUPERSMS_PASSWORD", "is required to send; set the SuperSMS account password")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every ``SUPERSMS_*`` variable (``os.environ`` unless ``environ`` is given)."""
        env = _Env(os.environ if environ is None else environ)
        redis_url = env.text("SUPERSMS_REDIS_URL", DEFAULT_REDIS_URL, _redis_url_rule)
        settings = cls(
            api_url=env.text("SUPERSMS_API_URL", DEFAULT_API_URL, _http_url_rule),
            account_id=env.optional("SUPERSMS_ID"),
            password=env.optional("SUPERSMS_PASSWORD"),
            default_sender=env.optional("SUPERSMS_FROM"),
            default_country=_default_country(env.optional("SUPERSMS_DEFAULT_COUNTRY")),
            redis_url=redis_url,
            broker_url=env.text("SUPERSMS_BROKER_URL", redis_url, _broker_url_rule),
            rate_limit_per_s=env.number("SUPERSMS_RATE_LIMIT", 50.0, float, minimum=0),
            rate_burst=env.number("SUPERSMS_RATE_BURST", 5, int, minimum=1),
            http_method=env.text("SUPERSMS_HTTP_METHOD", "POST", _method_rule).upper(),
            connect_timeout_s=env.number("SUPERSMS_CONNECT_TIMEOUT", 3.0, float, minimum=0.001),
            read_timeout_s=env.number("SUPERSMS_READ_TIMEOUT", 10.0, float, minimum=0.001),
            max_attempts=env.number("SUPERSMS_MAX_ATTEMPTS", 8, int, minimum=1),
            backoff_base_s=env.number("SUPERSMS_BACKOFF_BASE", 1.0, float, minimum=0.001),
            backoff_max_s=env.number("SUPERSMS_BACKOFF_MAX", 300.0, float, minimum=0.001, maximum=86400),
            default_ttl_s=env.number("SUPERSMS_DEFAULT_TTL", 86400, int, minimum=1),
            record_ttl_s=env.number("SUPERSMS_RECORD_TTL", 7 * 86400, int, minimum=60),
            pause_s=env.number("SUPERSMS_PAUSE", 60.0, float, minimum=0.1),
            worker_concurrency=env.number("SUPERSMS_CONCURRENCY", 32, int, minimum=1, maximum=1000),
            report_allow=env.networks("SUPERSMS_REPORT_ALLOW", DEFAULT_REPORT_ALLOW),
            trusted_proxies=env.networks("SUPERSMS_TRUSTED_PROXIES", ""),
            report_path=env.text("SUPERSMS_REPORT_PATH", "/", _path_rule),
            spool_dir=env.text("SUPERSMS_SPOOL_DIR", "supersms-spool", _nonempty_rule),
            receiver_workers=env.number("SUPERSMS_RECEIVER_WORKERS", 2, int, minimum=1, maximum=64),
            report_park_horizon_s=env.number("SUPERSMS_REPORT_HORIZON", 3600.0, float, minimum=1),
            stale_claim_s=env.number("SUPERSMS_STALE_CLAIM", 60.0, float, minimum=1),
            visibility_timeout_s=env.number("SUPERSMS_VISIBILITY_TIMEOUT", 100, int, minimum=20),
        )
        if settings.stale_claim_s <= settings.connect_timeout_s + settings.read_timeout_s:
            raise ConfigError(
                "SUPERSMS_STALE_CLAIM", "must exceed SUPERSMS_CONNECT_TIMEOUT + SUPERSMS_READ_TIMEOUT"
            )
        if settings.record_ttl_s < settings.default_ttl_s:  # else a record could go before its report comes
            raise ConfigError("SUPERSMS_RECORD_TTL", "must be at least SUPERSMS_DEFAULT_TTL")
        if settings.backoff_base_s > settings.backoff_max_s:
            raise ConfigError("SUPERSMS_BACKOFF_BASE", "must not exceed SUPERSMS_BACKOFF_MAX")
        return settings


def redis_url_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``SUPERSMS_REDIS_URL`` checked as :meth:`Settings.from_env` checks it; None when it is not set."""
    env = _Env(os.environ if environ is None else environ)
    value = env.optional("SUPERSMS_REDIS_URL")
    return None if value is None else env.text("SUPERSMS_REDIS_URL", value, _redis_url_rule)


class _Env:
    """Typed, validated reads of environment variables; each failure names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str, rule: Callable[[str], str | None]) -> str:
        value = self.optional(name)
        if value is None:
            return default
        problem = rule(value)
        if problem:
            raise ConfigError(name, problem)
        return value

    def number(
        self,
        name: str,
        default: T,
        kind: Callable[[str], T],
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        noun = "an integer" if kind is int else "a number"
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(name, f"must be {noun}, got {raw!r}") from None
        if isinstance(value, float) and not math.isfinite(value):  # nan, inf, 1e999: no rule can hold them
            raise ConfigError(name, f"must be a finite number, got {raw!r}")
        if minimum is not None and value < minimum:  # type: ignore[operator]
            raise ConfigError(name, f"must be {noun} >= {minimum:g}, got {raw!r}")
        if maximum is not None and value > maximum:  # type: ignore[operator]
            raise ConfigError(name, f"must be {noun} <= {maximum:g}, got {raw!r}")
        return value

    def networks(self, name: str, default: str) -> tuple[Network, ...]:
        raw = self._environ.get(name, default)
        networks = []
        for item in filter(None, (part.strip() for part in raw.split(","))):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigError(name, f"must be comma-separated IPs or CIDRs, got {item!r}") from None
        return tuple(networks)


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
BROKER_SCHEMES = (*REDIS_SCHEMES, "redis+socket://", "amqp://", "amqps://", "pyamqp://", "memory://")
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*:/*)[^@/]*@")
_PASSWORD_PARAMETER = re.compile(r"(?P<name>[?&]password=)[^&]*")
_DATABASE = re.compile(r"/?(\d+)?/?", re.ASCII)


def masked_url(url: str) -> str:
    """``url`` with its user and password (whatever precedes ``@``, and a ``password`` parameter) shown as
    ``***``: fit for messages and logs."""
    return _PASSWORD_PARAMETER.sub(r"\g<name>***", _USERINFO.sub(r"\g<scheme>***@", url, count=1))


def _redis_url_rule(value: str) -> str | None:
    if not value.startswith(REDIS_SCHEMES):
        return f"must be a redis://, rediss:// or unix:// URL, got {masked_url(value)!r}"
    return _redis_url_problem(value)


def _broker_url_rule(value: str) -> str | None:
    if not value.startswith(BROKER_SCHEMES):
        return f"must be a redis:// or amqp:// URL, got {masked_url(value)!r}"
    if value.startswith(REDIS_SCHEMES):
        return _redis_url_problem(value)
    try:
        _ = urlsplit(value).port  # reading it raises for a port that is not a number, or out of range
    except ValueError as error:
        return f"must be a valid URL ({error}), got {masked_url(value)!r}"
    return None


def _redis_url_problem(value: str) -> str | None:
    """What makes a ``redis://``, ``rediss://`` or ``unix://`` URL unusable, as redis-py reads it; None if fine."""
    from redis.connection import parse_url  # redis-py: loaded only to check a URL that is set

    try:
        parse_url(value)  # type: ignore[no-untyped-call]
    except ValueError as error:
        return f"must be a valid Redis URL ({error}), got {masked_url(value)!r}"
    if not value.startswith("unix://") and not _DATABASE.fullmatch(urlsplit(value).path):
        return f"must name its database by number (redis://host:port/0), got {masked_url(value)!r}"
    return None


def _http_url_rule(value: str) -> str | None:
    return None if value.startswith(("http://", "https://")) else "must be an http:// or https:// URL"


def _default_country(value: str | None) -> str:
    """The calling code ``SUPERSMS_DEFAULT_COUNTRY`` names (``82``, ``+82`` or ``KR``); 82 when unset."""
    if value is None:
        return "82"
    from supersms.protocol.numbers import parse_country  # phonenumbers: loaded only when the variable is set

    try:
        return parse_country(value)
    except InvalidMessage as error:
        raise ConfigError("SUPERSMS_DEFAULT_COUNTRY", error.rule) from None


def _method_rule(value: str) -> str | None:
    return None if value.upper() in ("GET", "POST") else "must be GET or POST"


def _path_rule(value: str) -> str | None:
    return None if value.startswith("/") else "must start with /"


def _nonempty_rule(value: str) -> str | None:
    return None if value else "must not be empty"
