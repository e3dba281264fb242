"""The one error hierarchy of supersms.

Every error the project raises on purpose derives from :class:`SmsError`. Errors of the libraries underneath
(``requests``, ``lxml``, ``redis``) are translated into these where the library is used, never leaked upward.
"""


class SmsError(Exception):
    """Root of every error raised by supersms."""


class InvalidMessage(SmsError, ValueError):
    """A message field breaks a rule; nothing was enqueued or sent.

    ``str(error)`` is one line naming the field and the rule, e.g. ``to: must be 1-13 digits``.
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InvalidReport(SmsError, ValueError):
    """A delivery report from the provider breaks a rule of its format; it is not recorded.

    ``str(error)`` is one line naming the field and the rule, e.g. ``rescnt: must be an integer 0-99``.
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class ConfigError(SmsError):
    """A setting read from the environment is missing or malformed."""

    def __init__(self, variable: str, rule: str) -> None:
        super().__init__(f"{variable}: {rule}")
        self.variable = variable
        self.rule = rule


class ProviderError(SmsError):
    """Something went wrong between us and the provider."""


class ProviderUnreachable(ProviderError):
    """The request provably never reached the provider (connect refused or timed out): safe to retry."""


class ProviderBusy(ProviderError):
    """The provider said it did not take the request (HTTP 429 or 503 without a reply): safe to retry.

    ``retry_after_s`` is the server's ``Retry-After`` in seconds, when it sent one.
    """

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class OutcomeUnknown(ProviderError):
    """The request may have reached the provider, but no usable answer came back (read timeout, reset)."""


class MalformedReply(OutcomeUnknown):
    """The provider answered, but not with a reply we can read."""


class StoreUnavailable(SmsError):
    """Redis could not be reached or refused the command."""


class UnknownMessage(SmsError):
    """No message record has this id."""

    def __init__(self, message_id: str) -> None:
        super().__init__(f"unknown message id: {message_id}")
        self.message_id = message_id
