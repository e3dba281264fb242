"""The WSGI app in-process, through the PEP 3333 validator, against the private Redis."""

from __future__ import annotations

import logging

import pytest
import redis

from supersms.receiver.app import ReceiverApp
from supersms.receiver.delivery import parse_query
from supersms.workers import keys
from tests.receiver.conftest import MakeApp
from tests.receiver.wsgi_client import GOOD_QUERY, GOOD_RESPONSE, PROVIDER_IP, call


def test_a_good_report_is_answered_with_the_report_response_once_it_is_in_the_stream(
    app: ReceiverApp, redis_client: redis.Redis
) -> None:
    answer = call(app)

    assert answer.code == 200
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert answer.body == GOOD_RESPONSE
    [(_, fields)] = redis_client.xrange(keys.REPORTS)
    assert fields["query"] == GOOD_QUERY
    assert fields["source"] == PROVIDER_IP
    assert int(fields["received_ms"]) > 1_600_000_000_000


def test_a_report_delivered_twice_is_recorded_once_and_answered_200_both_times(
    app: ReceiverApp, redis_client: redis.Redis
) -> None:
    first, again = call(app), call(app)

    assert (first.code, again.code) == (200, 200)
    assert again.body == first.body == GOOD_RESPONSE
    assert redis_client.xlen(keys.REPORTS) == 1


def test_a_retried_report_is_the_same_report_even_with_its_fields_in_another_order(
    app: ReceiverApp, redis_client: redis.Redis
) -> None:
    reordered = "&".join(reversed(GOOD_QUERY.split("&")))

    assert call(app).code == call(app, query=reordered).code == 200
    assert redis_client.xlen(keys.REPORTS) == 1


def test_different_reports_of_one_message_are_each_recorded(
    app: ReceiverApp, redis_client: redis.Redis
) -> None:
    intermediate = GOOD_QUERY.replace("err_code=1000", "err_code=2000") + "&rslt_type=3"

    assert call(app).code == call(app, query=intermediate).code == 200
    assert redis_client.xlen(keys.REPORTS) == 2


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        (GOOD_QUERY.replace("msgid=00000123&", ""), "msgid: is required"),
        (GOOD_QUERY.replace("to=1093446280", "to="), "to: is required"),
        (GOOD_QUERY.replace("rescnt=1", "rescnt=x"), "rescnt: must be an integer 0-9999"),
        (GOOD_QUERY.replace("err_code=1000", "err_code=10000"), "err_code: must be 4 digits"),
        (GOOD_QUERY + "&msgid=00000124", "msgid: is repeated with different values"),
        (GOOD_QUERY.replace("to_country=82", "to_country=%FF"), "to_country: must be 1-3 digits"),
        ("", "msgid: is required"),
    ],
)
def test_a_malformed_report_is_refused_400_and_kept_raw_for_inspection(
    app: ReceiverApp, redis_client: redis.Redis, query: str, rule: str
) -> None:
    answer = call(app, query=query)

    assert answer.code == 400
    assert answer.body.decode() == f"{rule}\n"
    assert redis_client.xlen(keys.REPORTS) == 0
    [(_, kept)] = redis_client.xrange(keys.REPORTS_MALFORMED)
    assert kept["query"] == query
    assert kept["rule"] == rule
    assert kept["source"] == PROVIDER_IP
    assert int(kept["received_ms"]) > 0


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "code"),
    [
        ("198.51.100.7", None, 403),
        ("211.233.70.236", None, 200),
        ("127.0.0.1", None, 200),
        # the header of an untrusted peer is ignored: an attacker cannot claim to be the provider
        ("198.51.100.7", PROVIDER_IP, 403),
        # behind our proxy, the provider's address comes from the header
        ("10.0.0.1", PROVIDER_IP, 200),
        ("10.0.0.1", f"{PROVIDER_IP}, 10.0.0.2", 200),
        ("10.0.0.1", f"{PROVIDER_IP}, 198.51.100.7", 403),
        ("10.0.0.1", None, 403),
        ("10.0.0.1", "garbage", 403),
    ],
)
def test_only_allowed_sources_may_deliver_reports(
    app: ReceiverApp, redis_client: redis.Redis, remote_addr: str, forwarded_for: str | None, code: int
) -> None:
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}

    answer = call(app, remote_addr=remote_addr, headers=headers)

    assert answer.code == code
    assert redis_client.xlen(keys.REPORTS) == (1 if code == 200 else 0)


def test_the_source_recorded_is_the_client_behind_a_trusted_proxy(
    app: ReceiverApp, redis_client: redis.Redis
) -> None:
    call(app, remote_addr="10.0.0.1", headers={"X-Forwarded-For": f"{PROVIDER_IP}, 10.0.0.3"})

    [(_, fields)] = redis_client.xrange(keys.REPORTS)
    assert fields["source"] == PROVIDER_IP


@pytest.mark.parametrize(("extra", "code"), [(0, 200), (1, 414)])
def test_a_query_over_the_size_limit_is_refused_414(
    make_app: MakeApp, redis_client: redis.Redis, extra: int, code: int
) -> None:
    limit = 200
    query = GOOD_QUERY + "&pad="
    query += "x" * (limit - len(query) + extra)
    app = make_app(report_max_query_bytes=limit)

    answer = call(app, query=query)

    assert (len(query), answer.code) == (limit + extra, code)
    assert redis_client.xlen(keys.REPORTS) == (1 if code == 200 else 0)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
def test_a_report_path_answers_405_to_anything_but_get(
    app: ReceiverApp, redis_client: redis.Redis, method: str
) -> None:
    answer = call(app, method=method)

    assert answer.code == 405
    assert answer.headers["Allow"] == "GET"
    assert redis_client.xlen(keys.REPORTS) == 0


@pytest.mark.parametrize("path", ["/report", "/healthz/", "//", "/favicon.ico"])
def test_an_unknown_path_is_404(app: ReceiverApp, path: str) -> None:
    assert call(app, path=path).code == 404


def test_the_report_path_is_configurable(make_app: MakeApp, redis_client: redis.Redis) -> None:
    app = make_app(report_path="/supersms/report")

    assert call(app, path="/supersms/report").code == 200
    assert call(app, path="/").code == 404
    assert redis_client.xlen(keys.REPORTS) == 1


def test_health_is_200_while_redis_answers(app: ReceiverApp) -> None:
    answer = call(app, path="/healthz", remote_addr="198.51.100.7")

    assert (answer.code, answer.body) == (200, b"ok\n")
    assert call(app, path="/healthz", method="HEAD").body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_health_answers_405_to_anything_but_get_and_head(app: ReceiverApp, method: str) -> None:
    answer = call(app, path="/healthz", method=method)

    assert answer.code == 405
    assert answer.headers["Allow"] == "GET, HEAD"


def test_an_unexpected_error_is_logged_and_answered_503_without_a_traceback(
    app: ReceiverApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(query: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("supersms.receiver.app.accept", broken)

    with caplog.at_level(logging.ERROR, logger="supersms.receiver.app"):
        answer = call(app)

    assert answer.code == 503
    assert b"secret" not in answer.body and b"Traceback" not in answer.body
    assert "secret internals" in caplog.text


def test_the_stored_query_reparses_into_the_report_the_receiver_validated(
    app: ReceiverApp, redis_client: redis.Redis
) -> None:
    call(app)

    [(_, fields)] = redis_client.xrange(keys.REPORTS)
    assert parse_query(fields["query"]) == parse_query(GOOD_QUERY)
