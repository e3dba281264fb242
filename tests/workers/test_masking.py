import pytest

from supersms.workers.masking import mask_fields, mask_number, masked_repr


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("1093446280", "1093****80"),
        ("01093446280", "0109*****80"),
        ("123456", "******"),
        ("1234567", "1234*67"),
    ],
)
def test_numbers_keep_only_their_head_and_tail(number, masked):
    assert mask_number(number) == masked


def test_message_text_is_replaced_by_its_length_and_numbers_are_masked():
    fields = {
        "to": "1093446280",
        "from": "01029652189",
        "message": "안녕하세요",
        "title": "공지",
        "ref": "A1",
    }
    assert mask_fields(fields) == {
        "to": "1093****80",
        "from": "0102*****89",
        "message": "<5 chars>",
        "title": "<2 chars>",
        "ref": "A1",
    }


def test_the_repr_contains_neither_the_number_nor_the_text():
    shown = masked_repr({"to": "1093446280", "message": "secret text"})
    assert "1093446280" not in shown and "secret" not in shown
