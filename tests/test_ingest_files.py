"""parse_file: dispatch by suffix and file-level errors."""

from __future__ import annotations

import pytest

from coder.errors import InputError
from coder.ingest import SUPPORTED, parse_file


def test_supported_suffixes():
    assert SUPPORTED == (".txt", ".md", ".vtt", ".srt", ".docx", ".csv", ".xlsx", ".pdf")


def test_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "Interview 3.TXT"
    path.write_text("I: Hello?\nR: Hi.\n", encoding="utf-8")
    doc = parse_file(path)
    assert (doc.name, doc.format) == ("Interview 3", "txt")
    assert [doc.text[t.start : t.end] for t in doc.turns] == ["Hello?", "Hi."]


def test_unknown_suffix_lists_supported_types(tmp_path):
    path = tmp_path / "interview.odt"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert err.value.reason == (
        "unsupported file type '.odt' (supported: .txt, .md, .vtt, .srt, .docx, .csv, .xlsx, "
        ".pdf)"
    )
    assert err.value.path == str(path)


def test_old_word_format_says_what_to_do(tmp_path):
    path = tmp_path / "interview.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"save it as \.docx"):
        parse_file(path)


@pytest.mark.parametrize("suffix", SUPPORTED)
def test_empty_file_of_every_type(tmp_path, suffix):
    path = tmp_path / f"blank{suffix}"
    path.write_bytes(b"")
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert str(err.value) == f"{path}: empty file"


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        parse_file(tmp_path / "gone.docx")


def test_binary_caption_file(tmp_path):
    path = tmp_path / "clip.vtt"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    with pytest.raises(InputError, match="binary file, not a caption file"):
        parse_file(path)
