"""Every Redis key supersms uses, with its type and lifetime. Nothing else spells a key.

All keys start with ``supersms:``. Keys of one message share the hash tag ``{id}`` so that a Redis Cluster
keeps them in one slot.

| key | type | lifetime | holds |
|---|---|---|---|
| ``supersms:msg:{id}`` | hash | ``SUPERSMS_RECORD_TTL`` | the message record (the fields README's "Outcomes" shows, JSON-encoded values where nested) |
| ``supersms:msgid:{msgid}`` | string | ``SUPERSMS_RECORD_TTL`` | provider msgid → our message id |
| ``supersms:due`` | sorted set | permanent; ids leave when claimed or found finished | unclaimed, unfinished message ids scored by when their next attempt is due (lost-task sweep) |
| ``supersms:inflight`` | sorted set | permanent | message ids claimed for an attempt, scored by claim time (stale-claim sweep) |
| ``supersms:rate`` | string | a few seconds | GCRA theoretical arrival time for the global rate limiter |
| ``supersms:rate:line`` | string | until its time | the rate slot promised to the last send given back (its countdown) |
| ``supersms:pause`` | string | the pause cool-down | the account-wide pause: the err_code that opened it |
| ``supersms:reports`` | stream | entries deleted once handled; parked (unmatched) reports stay pending | incoming delivery reports |
| ``supersms:reports:dead`` | stream | capped length | reports that never matched within the horizon |
| ``supersms:reports:seen:{key}`` | string | ``SUPERSMS_RECORD_TTL`` | dedup marker of one applied report |
| ``supersms:events`` | stream | capped length | final outcomes, for producers in any language |
| ``supersms:correlate:trigger`` | string | until a correlation run drains the stream (at most 10 s) | a ``supersms.correlate`` task is pending: do not enqueue another |
| ``supersms:sweep:lock`` | string | under one sweep interval | which worker sweeps stale claims this round |
| ``supersms:reports:received:{key}`` | string | 7 days | stream id of one received report: a retried delivery is not added again |
| ``supersms:reports:malformed`` | stream | capped length (~10000) | refused report GETs kept for inspection: query, rule, source, time |
| ``supersms:metrics:messages`` | hash | permanent | metrics: status → times a message entered it |
| ``supersms:metrics:replies`` | hash | permanent | metrics: JSON ``[err_code, outcome]`` → provider calls |
| ``supersms:metrics:reports`` | hash | permanent | metrics: outcome → delivery reports handled |
| ``supersms:metrics:rate:given_back`` | string | permanent | metrics: send slots given back to the queue |
| ``supersms:metrics:provider_latency`` | hash | permanent | metrics: histogram of provider call seconds (``le:<bound>`` per bucket, ``sum``) |
| ``supersms:metrics:rate_wait`` | hash | permanent | metrics: histogram of seconds waited for the rate limiter |
| ``supersms:metrics:report_lag`` | hash | permanent | metrics: histogram of seconds from report received to applied |
"""

PREFIX = "supersms"

INFLIGHT = f"{PREFIX}:inflight"
DUE = f"{PREFIX}:due"
RATE = f"{PREFIX}:rate"
RATE_LINE = f"{PREFIX}:rate:line"
PAUSE = f"{PREFIX}:pause"
REPORTS = f"{PREFIX}:reports"
REPORTS_DEAD = f"{PREFIX}:reports:dead"
EVENTS = f"{PREFIX}:events"
SWEEP_LOCK = f"{PREFIX}:sweep:lock"
CORRELATE_TRIGGER = f"{PREFIX}:correlate:trigger"

REPORTS_GROUP = "correlators"


def message(message_id: str) -> str:
    """The record hash of one message."""
    return f"{PREFIX}:msg:{{{message_id}}}"


def msgid(provider_msgid: str) -> str:
    """The index from the provider's msgid to our message id."""
    return f"{PREFIX}:msgid:{provider_msgid}"


def report_seen(report_key: str) -> str:
    """Dedup marker of one applied report (``report_key`` identifies the report, not its delivery)."""
    return f"{PREFIX}:reports:seen:{report_key}"


REPORTS_MALFORMED = f"{PREFIX}:reports:malformed"


def report_received(dedup_key: str) -> str:
    """Marker of one report taken in by the receiver (``dedup_key`` from ``Report.dedup_key()``)."""
    return f"{PREFIX}:reports:received:{dedup_key}"


METRICS_MESSAGES = f"{PREFIX}:metrics:messages"
METRICS_REPLIES = f"{PREFIX}:metrics:replies"
METRICS_REPORTS = f"{PREFIX}:metrics:reports"
METRICS_RATE_GIVEN_BACK = f"{PREFIX}:metrics:rate:given_back"
METRICS_PROVIDER_LATENCY = f"{PREFIX}:metrics:provider_latency"
METRICS_RATE_WAIT = f"{PREFIX}:metrics:rate_wait"
METRICS_REPORT_LAG = f"{PREFIX}:metrics:report_lag"
