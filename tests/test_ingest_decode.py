"""Encoding detection: what researchers' files actually come in."""

from __future__ import annotations

import pytest

from coder.errors import InputError
from coder.ingest import parse_file
from coder.ingest.decode import decode_bytes, read_text

TRANSCRIPT = "Interviewer: How was the café?\r\nJosé: “Fine” – mostly.\r\n"


def test_utf8_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + TRANSCRIPT.encode("utf-8"))
    text = read_text(path)
    assert text == "Interviewer: How was the café?\nJosé: “Fine” – mostly.\n"


def test_utf16_le_with_bom(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes(TRANSCRIPT.encode("utf-16"))  # BOM + native (LE) order
    assert path.read_bytes()[:2] == b"\xff\xfe"
    doc = parse_file(path)
    assert [t.speaker for t in doc.turns] == ["Interviewer", "José"]
    assert doc.text[doc.turns[1].start : doc.turns[1].end] == "“Fine” – mostly."


def test_utf16_be_with_bom_and_without_bom():
    data = "R: old cassette transcript\n".encode("utf-16-be")
    assert decode_bytes(b"\xfe\xff" + data, "x.txt") == "R: old cassette transcript\n"
    assert decode_bytes(data, "x.txt") == "R: old cassette transcript\n"
    le = "I: no byte-order mark here\n".encode("utf-16-le")
    assert decode_bytes(le, "x.txt") == "I: no byte-order mark here\n"


def test_cp1252_smart_quotes(tmp_path):
    path = tmp_path / "word-export.txt"
    path.write_bytes(b"R: \x93quoted\x94 \x96 caf\xe9\r\n")
    assert read_text(path) == "R: “quoted” – café\n"


def test_old_mac_line_endings():
    assert decode_bytes(b"I: one\rR: two\r", "x.txt") == "I: one\nR: two\n"


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n", b"\xef\xbb\xbf\n", b"\xff\xfe \x00\n\x00"])
def test_empty(data):
    with pytest.raises(InputError, match="empty file") as err:
        decode_bytes(data, "blank.txt")
    assert err.value.path == "blank.txt"


def test_png_is_binary(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(200))
    with pytest.raises(InputError) as err:
        read_text(path)
    assert err.value.reason == "binary file, not a text transcript"
    assert str(err.value) == f"{path}: binary file, not a text transcript"


def test_control_characters_are_binary():
    data = bytes(range(1, 9)) * 50 + b"some text"
    with pytest.raises(InputError, match="binary file"):
        decode_bytes(data, "x.txt")


def test_undecodable():
    with pytest.raises(InputError, match="not valid UTF-8, UTF-16 or cp1252 text"):
        decode_bytes(bytes(range(0x80, 0x100)) * 3, "x.txt")


def test_truncated_utf16_names_the_encoding():
    with pytest.raises(InputError, match="not valid UTF-16 text"):
        decode_bytes(b"\xff\xfe" + "I: hello".encode("utf-16-le") + b"\x00\xd8", "x.txt")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file") as err:
        read_text(tmp_path / "nope.txt")
    assert err.value.path == str(tmp_path / "nope.txt")
