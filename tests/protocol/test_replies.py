"""Send replies: the page's XML and its known variants read; hostile or unreadable bodies refused."""

from __future__ import annotations

import codecs
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from supersms.errors import MalformedReply, OutcomeUnknown
from supersms.protocol import safexml
from supersms.protocol.replies import (
    MAX_REPLY_BYTES,
    MessageResult,
    SubmitReply,
    parse_submit_reply,
    render_submit_reply,
)

PAGE_SUCCESS = """<?xml version='1.0' encoding='UTF-8' ?>
<submit_response>
<to_country>82</to_country>
<to>1093446280</to>
<messages cnt=”1”>
<message>
<msgid>00000123</msgid>
<err_code>R000</err_code>
<msg_type>1</msg_type>
</message>
</messages>
<ref>AA123456789</ref>

</submit_response>
"""
PAGE_FAILURE = """<?xml version='1.0' encoding='UTF-8' ?>
<submit_response>
<to_country>82</to_country>
<to>1093446280</to>
<messages cnt=”1”>
<message>
<err_code>R007</err_code>
</message>
</messages>
<ref>AA123456789</ref>
</submit_response>
"""
ACCEPTED = SubmitReply(
    messages=(MessageResult(err_code="R000", msgid="00000123", msg_type=1),),
    to_country="82",
    to="1093446280",
    ref="AA123456789",
)
REFUSED = SubmitReply(messages=(MessageResult("R007"),), to_country="82", to="1093446280", ref="AA123456789")


def test_the_pages_success_example_reads_despite_its_typographic_quotes() -> None:
    reply = parse_submit_reply(PAGE_SUCCESS.encode())
    assert reply == ACCEPTED
    assert reply.first.msgid == "00000123"


def test_the_pages_failure_example_reads_as_a_result_with_only_err_code() -> None:
    assert parse_submit_reply(PAGE_FAILURE.encode()) == REFUSED


@pytest.mark.parametrize("quotes", ["””", "““", "“”", "‘’", "’’", '“"', '"”', "''", '""'])
def test_attribute_quotes_of_any_kind_are_accepted(quotes: str) -> None:
    body = PAGE_SUCCESS.replace("”1”", f"{quotes[0]}1{quotes[1]}")
    assert parse_submit_reply(body.encode()) == ACCEPTED


def test_typographic_quotes_inside_well_formed_text_are_left_alone() -> None:
    body = PAGE_SUCCESS.replace("cnt=”1”", "note='say “hi”'").replace("<ref>", "<x a='=“b”'/><ref>")
    assert parse_submit_reply(body.encode()) == ACCEPTED


def test_several_message_results_are_all_kept_in_order() -> None:
    body = (
        b"<submit_response><messages cnt='3'>"
        b"<message><msgid>1</msgid><err_code>R000</err_code><msg_type>1</msg_type></message>"
        b"<message><err_code>R003</err_code></message>"
        b"<message><msgid>3</msgid><err_code>R000</err_code><msg_type>2</msg_type></message>"
        b"</messages></submit_response>"
    )
    reply = parse_submit_reply(body)
    assert reply.messages == (
        MessageResult("R000", "1", 1),
        MessageResult("R003"),
        MessageResult("R000", "3", 2),
    )
    assert (reply.to_country, reply.to, reply.ref) == (None, None, None)


@pytest.mark.parametrize(
    "body",
    [
        b"<submit_response><err_code>R002</err_code></submit_response>",
        b"<submit_response><message><err_code>R002</err_code></message></submit_response>",
        b"  \r\n<submit_response>\n\t<messages>\n <message> <err_code> R002 </err_code> </message>"
        b"</messages>\n</submit_response>\n\n",
    ],
)
def test_a_failure_reply_with_only_err_code_reads(body: bytes) -> None:
    assert parse_submit_reply(body).first == MessageResult("R002")


def test_field_order_and_whitespace_do_not_matter() -> None:
    body = (
        "<submit_response>\r\n  <ref> AA123456789 </ref>\r\n  <messages cnt=”1”>\r\n    <message>\r\n"
        "      <msg_type> 1 </msg_type>\r\n      <err_code>R000</err_code>\r\n"
        "      <msgid>00000123</msgid>\r\n"
        "    </message>\r\n  </messages>\r\n  <to>1093446280</to>\r\n  <to_country>82</to_country>\r\n"
        "</submit_response>"
    )
    assert parse_submit_reply(body.encode()) == ACCEPTED


@pytest.mark.parametrize(
    "body",
    [
        codecs.BOM_UTF8 + PAGE_SUCCESS.encode(),
        PAGE_SUCCESS.replace("UTF-8", "euc-kr")
        .replace("</ref>", "</ref><note>접수 완료</note>")
        .encode("euc-kr"),
        PAGE_SUCCESS.replace("UTF-8", "EUC-KR").encode("euc-kr"),
        PAGE_SUCCESS.replace("UTF-8", "euc-kr")  # declared euc-kr, written in its superset cp949
        .replace("</ref>", "</ref><note>똠방각하</note>")
        .encode("cp949"),
        PAGE_SUCCESS.replace("UTF-8", "ks_c_5601-1987").encode("cp949"),
        codecs.BOM_UTF16_LE + PAGE_SUCCESS.replace("UTF-8", "UTF-16").encode("utf-16-le"),
        PAGE_SUCCESS.replace("<?xml version='1.0' encoding='UTF-8' ?>\n", "").encode(),
        PAGE_SUCCESS.replace("<submit_response>", "<!-- 안녕 --><submit_response><?pi data?>").encode(),
        PAGE_SUCCESS.replace("version='1.0' encoding='UTF-8'", "version=”1.0” encoding=”euc-kr”").encode(
            "cp949"
        ),
    ],
    ids=[
        "bom",
        "euc-kr",
        "euc-kr-upper",
        "euc-kr-meaning-cp949",
        "ks_c_5601",
        "utf-16",
        "no-declaration",
        "comment-and-pi",
        "typographic-declaration",
    ],
)
def test_encodings_and_prologs_seen_in_the_wild_are_accepted(body: bytes) -> None:
    assert parse_submit_reply(body) == ACCEPTED


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n ",
        b"garbage",
        b"\x00\xff\xfe",
        b"<html><body>502 Bad Gateway</body></html>",
        b"<submit_response>",
        b"<submit_response><messages></messages></submit_response>",
        b"<submit_response><messages><message><msgid>1</msgid></message></messages></submit_response>",
        b"<submit_response><messages><message><err_code> </err_code></message></messages></submit_response>",
        b"<?xml version='1.0' encoding='UTF-8' ?><submit_response><to>\xff</to></submit_response>",
        b"<?xml version='1.0' encoding='x-klingon' ?><submit_response/>",
        b"<submit_response><err_code>R000</err_code></submit_response><trailing/>",
        b"<submit_response><err_code>R000&unknown;</err_code></submit_response>",
    ],
    ids=[
        "empty",
        "blank",
        "text",
        "binary",
        "html",
        "unclosed",
        "no-result",
        "result-without-err_code",
        "blank-err_code",
        "bad-utf-8",
        "unknown-encoding",
        "two-roots",
        "undefined-entity",
    ],
)
def test_unreadable_replies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedReply):
        parse_submit_reply(body)


def test_a_malformed_reply_is_an_unknown_outcome_with_a_short_reason() -> None:
    with pytest.raises(OutcomeUnknown) as caught:
        parse_submit_reply(b"<submit_response><messages><message/></messages></submit_response>")
    assert str(caught.value) == "message result without err_code"


@pytest.mark.parametrize(("text", "msg_type"), [("1", 1), ("2", 2), (" 2 ", 2), ("", None), ("999", 999)])
def test_msg_type_is_read_as_an_integer(text: str, msg_type: int | None) -> None:
    body = f"<submit_response><message><err_code>R000</err_code><msg_type>{text}</msg_type></message>"
    assert parse_submit_reply((body + "</submit_response>").encode()).first.msg_type == msg_type


@pytest.mark.parametrize("text", ["SMS", "1.0", "-1", "1000", "١"])
def test_a_msg_type_that_is_not_a_small_integer_is_left_unknown_and_the_reply_still_reads(text: str) -> None:
    body = f"<submit_response><message><err_code>R000</err_code><msg_type>{text}</msg_type></message>"
    first = parse_submit_reply((body + "</submit_response>").encode()).first
    assert (first.err_code, first.msg_type) == ("R000", None)


@pytest.mark.parametrize(("written", "read"), [("r000", "R000"), ("r009", "R009"), (" R002 ", "R002")])
def test_err_codes_are_read_in_the_pages_case(written: str, read: str) -> None:
    body = f"<submit_response><message><err_code>{written}</err_code></message></submit_response>"
    assert parse_submit_reply(body.encode()).first.err_code == read


def padded_to(size: int) -> bytes:
    body = PAGE_SUCCESS.encode()
    return body + b" " * (size - len(body))


def test_a_reply_of_exactly_the_size_limit_is_read() -> None:
    assert parse_submit_reply(padded_to(MAX_REPLY_BYTES)) == ACCEPTED


def test_a_reply_one_byte_over_the_size_limit_is_refused_unparsed() -> None:
    with pytest.raises(MalformedReply, match="larger than"):
        parse_submit_reply(padded_to(MAX_REPLY_BYTES + 1))


def test_deep_nesting_within_the_size_limit_is_refused() -> None:
    depth = 3_000
    body = b"<submit_response>" + b"<a>" * depth + b"</a>" * depth + b"</submit_response>"
    assert len(body) < MAX_REPLY_BYTES
    with pytest.raises(MalformedReply, match="not well-formed"):
        parse_submit_reply(body)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<submit_response><messages><message><err_code>&lol9;</err_code></message></messages></submit_response>"""


def test_an_xml_bomb_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(MalformedReply, match="DTD"):
        parse_submit_reply(BILLION_LAUGHS)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE submit_response>",
        "<!doctype submit_response>",
        "<!DOCTYPE submit_response [<!ELEMENT submit_response ANY>]>",
        "<!DOCTYPE submit_response [<!ENTITY code 'R000'>]>",
    ],
)
def test_any_dtd_at_all_is_refused(doctype: str) -> None:
    with pytest.raises(MalformedReply, match="DTD"):
        parse_submit_reply(
            PAGE_SUCCESS.replace("<submit_response>", doctype + "<submit_response>", 1).encode()
        )


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP port that records whether anything connects to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    yield server
    server.close()


def assert_nobody_connected(server: socket.socket) -> None:
    with pytest.raises(TimeoutError):
        connection, _ = server.accept()
        connection.close()


def url_of(server: socket.socket) -> str:
    host, port = server.getsockname()
    return f"http://{host}:{port}/x"


@pytest.mark.parametrize(
    "template",
    [
        '<!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]><submit_response><err_code>&x;</err_code>',
        '<!DOCTYPE r [<!ENTITY % x SYSTEM "{url}"> %x;]><submit_response><err_code>R000</err_code>',
        '<!DOCTYPE submit_response SYSTEM "{url}"><submit_response><err_code>R000</err_code>',
    ],
    ids=["general-entity", "parameter-entity", "external-dtd"],
)
def test_an_external_entity_over_http_is_refused_and_never_fetched(
    template: str, listener: socket.socket
) -> None:
    with pytest.raises(MalformedReply):
        parse_submit_reply((template.format(url=url_of(listener)) + "</submit_response>").encode())
    assert_nobody_connected(listener)


@pytest.mark.parametrize(
    "body",
    [
        '<submit_response xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{url}"/>'
        "<err_code>R000</err_code></submit_response>",
        '<?xml-stylesheet type="text/xsl" href="{url}"?>'
        "<submit_response><err_code>R000</err_code></submit_response>",
        '<submit_response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="a {url}">'
        "<err_code>R000</err_code></submit_response>",
    ],
    ids=["xinclude", "stylesheet", "schema-location"],
)
def test_references_outside_a_dtd_are_never_followed(body: str, listener: socket.socket) -> None:
    assert parse_submit_reply(body.format(url=url_of(listener)).encode()).first.err_code == "R000"
    assert_nobody_connected(listener)


def test_an_external_entity_naming_a_local_file_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("R000-top-secret")
    body = (
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<submit_response><messages><message><err_code>&x;</err_code></message></messages></submit_response>"
    )
    with pytest.raises(MalformedReply) as caught:
        parse_submit_reply(body.encode())
    assert "top-secret" not in str(caught.value)


def test_the_parser_itself_expands_and_fetches_nothing(tmp_path: Path, listener: socket.socket) -> None:
    """The second wall: were a DTD ever let past the first, lxml would still load, resolve and fetch nothing."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top-secret")
    body = (
        f'<!DOCTYPE r [<!ENTITY inner "EXPANDED"><!ENTITY file SYSTEM "file://{secret}">'
        f'<!ENTITY web SYSTEM "{url_of(listener)}">]><r>&inner;&file;&web;</r>'
    )
    root = safexml._parse(body)
    assert "".join(root.itertext()) == "&inner;&file;&web;", "references kept as references"
    assert etree.tostring(root, encoding="unicode") == "<r>&inner;&file;&web;</r>"
    assert_nobody_connected(listener)


def test_the_page_layout_is_rendered_byte_for_byte() -> None:
    rendered = render_submit_reply(
        to_country="82",
        to="1093446280",
        results=ACCEPTED.messages,
        ref="AA123456789",
        typographic_quotes=True,
    )
    assert rendered == PAGE_SUCCESS.replace("\n\n", "\n").encode()


def test_a_failure_renders_with_only_err_code_in_its_message() -> None:
    rendered = render_submit_reply(
        to_country="82", to="1093446280", results=REFUSED.messages, ref="AA123456789", typographic_quotes=True
    )
    assert rendered == PAGE_FAILURE.encode()


def test_straight_quotes_are_the_default_and_ref_is_left_out_when_absent() -> None:
    rendered = render_submit_reply(to_country="82", to="1", results=[MessageResult("R001")], ref=None)
    assert b'<messages cnt="1">' in rendered
    assert b"<ref>" not in rendered


def test_rendered_values_are_escaped() -> None:
    rendered = render_submit_reply(to_country="82", to="1&<2>", results=[MessageResult("R<0>")], ref=None)
    assert b"<to>1&amp;&lt;2&gt;</to>" in rendered
    assert parse_submit_reply(rendered).first.err_code == "R<0>"


@pytest.mark.parametrize(
    "reply",
    [
        ACCEPTED,
        REFUSED,
        SubmitReply((MessageResult("R000", "1", 2), MessageResult("R008")), to_country="1", to="2025550123"),
        SubmitReply((MessageResult("R009"),), to_country="852", to="91234567", ref="x"),
    ],
)
@pytest.mark.parametrize("typographic_quotes", [False, True])
def test_a_rendered_reply_reads_back_unchanged(reply: SubmitReply, typographic_quotes: bool) -> None:
    assert reply.to_country is not None
    assert reply.to is not None
    rendered = render_submit_reply(
        to_country=reply.to_country,
        to=reply.to,
        results=reply.messages,
        ref=reply.ref,
        typographic_quotes=typographic_quotes,
    )
    assert parse_submit_reply(rendered) == reply


def test_a_reply_without_any_result_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SubmitReply(messages=())
