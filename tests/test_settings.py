import ipaddress

import pytest

from supersms.errors import ConfigError
from supersms.settings import Settings


def test_defaults_follow_the_contract():
    settings = Settings.from_env({})
    assert settings.api_url == "https://rest.supersms.co/sms/xml"
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.broker_url == settings.redis_url
    assert settings.report_path == "/"
    assert settings.report_allow == (
        ipaddress.ip_network("211.233.70.235/32"),
        ipaddress.ip_network("211.233.70.236/32"),
    )
    assert not settings.has_credentials
    assert (settings.rate_limit_per_s, settings.rate_burst, settings.http_method) == (50, 5, "POST")
    assert (settings.connect_timeout_s, settings.read_timeout_s) == (3, 10)
    assert (settings.max_attempts, settings.backoff_base_s, settings.backoff_max_s) == (8, 1, 300)
    assert (settings.default_ttl_s, settings.record_ttl_s, settings.pause_s) == (86400, 604800, 60)
    assert (settings.worker_concurrency, settings.visibility_timeout_s, settings.stale_claim_s) == (
        32,
        100,
        60,
    )
    assert (settings.default_country, settings.trusted_proxies, settings.spool_dir) == (
        "82",
        (),
        "supersms-spool",
    )
    assert (settings.receiver_workers, settings.report_park_horizon_s) == (2, 3600)


def test_the_broker_defaults_to_the_redis_url():
    settings = Settings.from_env({"SUPERSMS_REDIS_URL": "redis://10.0.0.1:6380/2"})
    assert settings.broker_url == "redis://10.0.0.1:6380/2"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SUPERSMS_REDIS_URL", "redis:/:s3cret@127.0.0.1:6379/0"),
        ("SUPERSMS_REDIS_URL", "redis://:s3cret@127.0.0.1:port/0"),
        ("SUPERSMS_REDIS_URL", "unix:///run/redis.sock?password=s3cret&db=x"),
        ("SUPERSMS_BROKER_URL", "amqps:/admin:s3cret@rabbit//"),
        ("SUPERSMS_BROKER_URL", "sqs://AKIA:s3cret@"),
        ("SUPERSMS_BROKER_URL", "amqp://admin:s3cret@rabbit:port//"),
    ],
)
def test_a_refused_url_is_shown_without_its_password(variable, value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable
    assert "s3cret" not in str(caught.value)
    assert "***" in str(caught.value)


def test_the_password_never_shows_in_the_repr():
    settings = Settings.from_env({"SUPERSMS_ID": "acct", "SUPERSMS_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("SUPERSMS_RATE_LIMIT", "fast", "must be a number"),
        ("SUPERSMS_RATE_LIMIT", "-1", "must be a number >= 0"),
        ("SUPERSMS_RATE_BURST", "0", "must be an integer >= 1"),
        ("SUPERSMS_REDIS_URL", "localhost:6379", "must be a redis://, rediss:// or unix:// URL"),
        ("SUPERSMS_REDIS_URL", "amqp://guest@localhost//", "must be a redis://, rediss:// or unix:// URL"),
        ("SUPERSMS_BROKER_URL", "localhost:5672", "must be a redis:// or amqp:// URL"),
        ("SUPERSMS_API_URL", "ftp://x", "must be an http:// or https:// URL"),
        ("SUPERSMS_REPORT_ALLOW", "1.2.3.4,nope", "must be comma-separated IPs or CIDRs"),
        ("SUPERSMS_REPORT_PATH", "reports", "must start with /"),
        ("SUPERSMS_HTTP_METHOD", "PUT", "must be GET or POST"),
        ("SUPERSMS_CONCURRENCY", "1001", "must be an integer <= 1000"),
        ("SUPERSMS_VISIBILITY_TIMEOUT", "19", "must be an integer >= 20"),
        ("SUPERSMS_RECORD_TTL", "59", "must be an integer >= 60"),
        ("SUPERSMS_DEFAULT_COUNTRY", "1234", "must be 1-3 digits (a calling code such as 82) or a region"),
        ("SUPERSMS_DEFAULT_COUNTRY", "999", "unknown country calling code 999"),
        ("SUPERSMS_STALE_CLAIM", "13", "must exceed SUPERSMS_CONNECT_TIMEOUT + SUPERSMS_READ_TIMEOUT"),
        ("SUPERSMS_BACKOFF_BASE", "301", "must not exceed SUPERSMS_BACKOFF_MAX"),
        ("SUPERSMS_RECORD_TTL", "86399", "must be at least SUPERSMS_DEFAULT_TTL"),
        ("SUPERSMS_RATE_LIMIT", "nan", "must be a finite number, got 'nan'"),
        ("SUPERSMS_READ_TIMEOUT", "inf", "must be a finite number, got 'inf'"),
        ("SUPERSMS_PAUSE", "1e999", "must be a finite number, got '1e999'"),
        ("SUPERSMS_STALE_CLAIM", "NaN", "must be a finite number, got 'NaN'"),
        (
            "SUPERSMS_REDIS_URL",
            "redis://127.0.0.1:port/0",
            "must be a valid Redis URL (Port could not be cast",
        ),
        ("SUPERSMS_REDIS_URL", "redis://127.0.0.1:99999/0", "must be a valid Redis URL (Port out of range"),
        ("SUPERSMS_REDIS_URL", "redis://[::1/0", "must be a valid Redis URL (Invalid IPv6 URL)"),
        (
            "SUPERSMS_REDIS_URL",
            "unix:///run/redis.sock?db=x",
            "must be a valid Redis URL (Invalid value for 'db'",
        ),
        ("SUPERSMS_REDIS_URL", "redis://127.0.0.1:6379/abc", "must name its database by number"),
        ("SUPERSMS_BROKER_URL", "amqp://guest@rabbit:port//", "must be a valid URL (Port could not be cast"),
    ],
)
def test_a_malformed_variable_is_named_with_its_rule(variable, value, rule):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: {rule}")


def test_rate_zero_means_no_limit_and_is_accepted():
    assert Settings.from_env({"SUPERSMS_RATE_LIMIT": "0"}).rate_limit_per_s == 0


def test_missing_credentials_are_named():
    with pytest.raises(ConfigError, match="SUPERSMS_ID"):
        Settings.from_env({}).require_credentials()
    with pytest.raises(ConfigError, match="SUPERSMS_PASSWORD"):
        Settings.from_env({"SUPERSMS_ID": "a"}).require_credentials()


def test_cidrs_are_accepted_for_the_allowlist():
    settings = Settings.from_env({"SUPERSMS_REPORT_ALLOW": "10.0.0.0/8, 127.0.0.1"})
    assert ipaddress.ip_address("10.2.3.4") in settings.report_allow[0]


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "read"),
    [
        ("SUPERSMS_HTTP_METHOD", "get", "http_method", "GET"),
        ("SUPERSMS_BROKER_URL", "amqps://u@mq:5671//", "broker_url", "amqps://u@mq:5671//"),
        ("SUPERSMS_BROKER_URL", "pyamqp://guest@localhost//", "broker_url", "pyamqp://guest@localhost//"),
        ("SUPERSMS_DEFAULT_COUNTRY", "KR", "default_country", "82"),
        ("SUPERSMS_DEFAULT_COUNTRY", "+1", "default_country", "1"),
        ("SUPERSMS_RATE_LIMIT", " 20 ", "rate_limit_per_s", 20),
        ("SUPERSMS_REPORT_PATH", " /sms/report\n", "report_path", "/sms/report"),
        ("SUPERSMS_TRUSTED_PROXIES", "10.0.0.7/8", "trusted_proxies", (ipaddress.ip_network("10.0.0.0/8"),)),
        ("SUPERSMS_REPORT_ALLOW", "", "report_allow", ()),  # set but empty: nobody, never the default
    ],
)
def test_forms_people_write_are_read_as_meant(variable, value, attribute, read):
    assert getattr(Settings.from_env({variable: value}), attribute) == read
