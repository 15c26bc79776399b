"""Every format from issue #10, built from realistic lines: speakers, times, no residue.

Each fixture is a small real file written here; ``FIXTURES`` maps a name to the file and
what a researcher expects from it. One test walks every fixture and checks that no
segment holds markup or timing residue.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coder.errors import InputError
from coder.importer import ImportOptions, read_document
from coder.ingest import parse_file
from pdf_maker import write_pdf

ZOOM_CC = """\
[Experimenter] 19:00:25
Okay, so we're recording now. Can everyone hear me?
[Eva Montoya Davis] 19:00:31
Yes, I can hear you fine.
[Experimenter] 19:00:34
Great. So first question: how long have you lived in the neighbourhood?
[Eva Montoya Davis] 19:00:41
About eleven years now,
[Eva Montoya Davis] 19:00:44
since my daughter was born.
"""

def _tagged(start: float, words: list[str]) -> str:
    """A YouTube cue line: the first word bare, the rest in ``<time><c> word</c>`` tags."""
    out = words[0]
    for k, word in enumerate(words[1:], start=1):
        out += f"<{_clock(start + 0.3 * k)}><c> {word}</c>"
    return out


def _youtube_vtt() -> str:
    """yt-dlp's download of automatic captions: rolling cues, word tags, lone-space lines."""
    said = ""
    blocks = ["WEBVTT\nKind: captions\nLanguage: en"]
    chunks = [(0.0, 2.39, "good to be here I love Chicago alright"),
              (2.4, 5.13, "so yeah today we're talking"),
              (5.14, 8.0, "about deep dish pizza"),
              (11.0, 13.0, "and the lake")]
    for start, end, words in chunks:
        timing = f"{_clock(start)} --> {_clock(end)} align:start position:0%"
        blocks.append(f"{timing}\n{said or ' '}\n{_tagged(start, words.split())}")
        blocks.append(f"{_clock(end)} --> {_clock(end + 0.01)} align:start position:0%\n"
                      f"{words}\n ")
        said = words
    return "\n\n".join(blocks) + "\n"


OTTER_MD = """\
**Emma** [0:00] Today we're talking to Sam about the allotment.

**Sam** [0:07] Thanks for having me. It started in lockdown, really.

**Emma** [0:15] And what did you grow first?

**Sam** [0:19] Potatoes. Everyone grows potatoes first.
"""

OTTER_MD_NEXT_LINE = """\
**Emma** 0:00
Today we're talking to Sam about the allotment.

**Sam** 0:07
Thanks for having me.

**Emma** 1:02
And what did you grow first?
"""

RIVERSIDE_MD = """\
**Lindsey** [00:00]

Welcome back to the show. Today it's all about libraries.

**Marcus** [00:09]

Glad to be here, Lindsey.

**Lindsey** [00:13]

So tell me how the branch closures started.
"""

DESCRIPT_MD = """\
*Joe Patti (1:00:05)*

We were a small team then, maybe six people.

*Ana Ruiz (1:00:12)*

And you were all in one room?

*Joe Patti (1:00:15)*

One room, one kettle.
"""

CAPTION_NAMES_SRT = """\
1
00:00:01,000 --> 00:00:04,000
Tim Davis There are several things we learned from the pilot.

2
00:00:04,200 --> 00:00:06,000
Maria Lopez What surprised you most?

3
00:00:06,300 --> 00:00:09,000
Tim Davis Honestly, how much the parents wanted to be involved.

4
00:00:09,200 --> 00:00:11,000
Maria Lopez Were they involved from the start?

5
00:00:11,300 --> 00:00:13,000
Tim Davis Not at first.
"""

TIGHT_COLON = """\
Interview 7, Schule B, 12.03.2023

I:Q2 Wie war der erste Tag für Sie?
B:Das sind sehr unterschiedliche Erinnerungen. Ich war nervös.
I:Und die Kollegen?
B:Die waren sehr hilfsbereit, vor allem am Anfang.
"""

PODCAST_MD = """\
**Jerod Santo:** [00:20:03.16] Welcome back. I&#39;m here with Adam,
and we\\'re talking \\[mostly\\] about *open source* funding.

**Adam Stacoviak:** \\[00:20:15.02\\] It&#39;s a **big** topic &amp; a hard one.

**Break:** [00:25:12.24]

[music]

**Jerod Santo:** [00:26:00.00] And we're back.

[laughter]

**Adam Stacoviak:** [00:26:04.50] So where were we?
"""

F4_TXT = """\
I: Wie sind Sie zu dem Projekt gekommen? #00:00:05-2#

B: Über eine Freundin, die dort schon gearbeitet hat. #00:00:12-9#

I: Und was hat Sie überzeugt? #00:00:15-0#

B: Die Leute. Ganz klar die Leute. #00:00:21-4#
"""

ZOOM_TRANSCRIPT_TXT = """\
WEBVTT

1
00:00:01.290 --> 00:00:04.320
Priya Shah: Thanks everyone for joining the focus group.

2
00:00:04.800 --> 00:00:08.010
Daniel Kim: Happy to be here. Should we introduce ourselves?

3
00:00:08.400 --> 00:00:10.000
Priya Shah: Yes please, name and school.
"""

SRT_AS_TXT = """\
1
00:00:01,000 --> 00:00:03,500
Interviewer: How did the first term go?

2
00:00:03,900 --> 00:00:07,000
Teacher: Better than I feared, to be honest.
"""

OTTER_TXT = """\
SUMMARY KEYWORDS
allotment, lockdown, potatoes, community

SPEAKERS
Emma Clarke, Sam Okoro

Emma Clarke  0:00
Today we're talking to Sam about the allotment.

Sam Okoro  0:07
Thanks for having me. It started in lockdown.

Emma Clarke  0:15
And what did you grow first?

Transcribed by https://otter.ai
"""

ARTICLE_TXT = """\
Koronavírus: egyszerre zajlik a járvány és a tájékoztatás válsága

A kormány hétfőn újabb intézkedéseket jelentett be. Az iskolák zárva maradnak.

A szakértők szerint a következő hetek döntőek lesznek.
"""


def _lecture_vtt() -> str:
    """One voice for a whole recording: 60 cues, a 3 s pause after every 20th."""
    cues = []
    t = 0.0
    for i in range(60):
        if i and i % 20 == 0:
            t += 3.0
        cues.append(f"{_clock(t)} --> {_clock(t + 2.5)}\nThis is sentence number {i} of the "
                    "lecture on urban ecology and it goes on.")
        t += 2.6
    return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"


def _clock(seconds: float) -> str:
    total = int(round(seconds * 1000))
    whole, ms = divmod(total, 1000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{ms:03d}"


def _transcribe_docx(path: Path, main_part: str = "word/document2.xml") -> Path:
    """A Microsoft 365 Transcribe export: time-first headers; the main part renamed."""
    import docx

    document = docx.Document()
    for line in ["00:00:03 Speaker 1", "So how did you get involved with the food bank?",
                 "00:00:09 Speaker 2", "A neighbour asked me, and I just never stopped going.",
                 "00:01:15 Speaker 1", "What keeps you going back?",
                 "00:01:20 Speaker 2", "The people, honestly."]:
        document.add_paragraph(line)
    plain = path.with_name("plain-" + path.name)
    document.save(str(plain))
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in zin.infolist():
            data, name = zin.read(item.filename), item.filename
            if name in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace(b"word/document.xml", main_part.encode())
            if name == "word/document.xml":
                name = main_part
            if name == "word/_rels/document.xml.rels":
                name = main_part.replace("word/", "word/_rels/") + ".rels"
            out.writestr(name, data)
    plain.unlink()
    return path


QUALTRICS_CSV = (
    'StartDate,EndDate,Status,ResponseId,Q3,Q5\n'
    'Start Date,End Date,Response Type,Response ID,'
    'What would make the coaching program better?,How many years have you taught?\n'
    '"{""ImportId"":""startDate"",""timeZone"":""America/Denver""}","{""ImportId"":""endDate""}",'
    '"{""ImportId"":""status""}","{""ImportId"":""_recordId""}","{""ImportId"":""QID3_TEXT""}",'
    '"{""ImportId"":""QID5""}"\n'
    '2024-03-01 10:00:00,2024-03-01 10:05:00,IP Address,R_1abcDEFghi,'
    'More coaching and less paperwork.,12\n'
    '2024-03-01 11:00:00,2024-03-01 11:09:00,IP Address,R_2jklMNOpqr,'
    'Time to plan with colleagues.,3\n'
)


def _qualtrics_xlsx(path: Path) -> Path:
    import csv
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(QUALTRICS_CSV)):
        sheet.append(row)
    book.save(str(path))
    return path


def _report_pdf(path: Path) -> Path:
    topics = ["the night shifts", "the rota", "the new ward manager", "the pay review"]
    pages = []
    for n, topic in enumerate(topics, start=1):
        lines = ["Ward 7 Evaluation Report 2023", ""]
        if n == 2:
            lines += ["nobody had planned for it.", ""]
        lines += [f"Interviewer: Tell me about {topic} and how the organi-",
                  "sation around it worked?",
                  f"Nurse Lee: Well, {topic} {'was' if n % 2 else 'felt'} hard. We were under-",
                  f"staffed on {n + 2} days of the week, and the Franco-",
                  "German exchange nurses were" + (" tired, I think, because" if n == 1 else
                                                   f" fine with {topic}."),
                  "", f"Page {n} of 4"]
        pages.append(lines)
    return write_pdf(path, pages)


@dataclass
class Case:
    filename: str
    content: str | None = None  # text files; else ``build``
    build: object = None
    speakers: list[str | None] = field(default_factory=list)  # segment speakers, in order
    times: list[float | None] | None = None  # segment start times
    texts: dict[int, str] = field(default_factory=dict)  # segment index -> exact text
    options: dict = field(default_factory=dict)
    detected: str = ""


FIXTURES: dict[str, Case] = {
    "zoom-closed-captions": Case(
        "GMT20230412-190025_Recording.cc.txt", ZOOM_CC,
        speakers=["Experimenter", "Eva Montoya Davis", "Experimenter", "Eva Montoya Davis"],
        times=[68425.0, 68431.0, 68434.0, 68441.0],
        texts={3: "About eleven years now, since my daughter was born."},
        detected="Zoom saved closed captions"),
    "youtube-auto-captions": Case(
        "talk.en.vtt", _youtube_vtt(), speakers=[None, None], times=[0.0, 11.0],
        texts={0: "good to be here I love Chicago alright so yeah today we're talking "
                  "about deep dish pizza",
               1: "and the lake"}),
    "otter-markdown": Case(
        "allotment.md", OTTER_MD, speakers=["Emma", "Sam", "Emma", "Sam"],
        times=[0.0, 7.0, 15.0, 19.0],
        texts={0: "Today we're talking to Sam about the allotment."}),
    "otter-markdown-time-below": Case(
        "allotment2.md", OTTER_MD_NEXT_LINE, speakers=["Emma", "Sam", "Emma"],
        times=[0.0, 7.0, 62.0], texts={1: "Thanks for having me."}),
    "riverside-markdown": Case(
        "libraries.md", RIVERSIDE_MD, speakers=["Lindsey", "Marcus", "Lindsey"],
        times=[0.0, 9.0, 13.0], texts={1: "Glad to be here, Lindsey."}),
    "descript-italic": Case(
        "team.md", DESCRIPT_MD, speakers=["Joe Patti", "Ana Ruiz", "Joe Patti"],
        times=[3605.0, 3612.0, 3615.0], texts={2: "One room, one kettle."}),
    "caption-names-without-colon": Case(
        "pilot.srt", CAPTION_NAMES_SRT,
        speakers=["Tim Davis", "Maria Lopez", "Tim Davis", "Maria Lopez", "Tim Davis"],
        times=[1.0, 4.2, 6.3, 9.2, 11.3],
        texts={0: "There are several things we learned from the pilot."}),
    "transcribe-docx": Case(
        "foodbank.docx", build=_transcribe_docx,
        speakers=["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 2"],
        times=[3.0, 9.0, 75.0, 80.0], texts={3: "The people, honestly."}),
    "no-space-after-colon": Case(
        "interview7.txt", TIGHT_COLON, speakers=[None, "I", "B", "I", "B"],
        texts={1: "Q2 Wie war der erste Tag für Sie?",
               2: "Das sind sehr unterschiedliche Erinnerungen. Ich war nervös."}),
    "qualtrics-csv": Case(
        "coaching-survey.csv", QUALTRICS_CSV, speakers=["R_1abcDEFghi", "R_2jklMNOpqr"],
        texts={0: "More coaching and less paperwork."}, options={"text_column": "Q3"}),
    "qualtrics-xlsx": Case(
        "coaching-survey.xlsx", build=_qualtrics_xlsx,
        speakers=["R_1abcDEFghi", "R_2jklMNOpqr"],
        texts={1: "Time to plan with colleagues."}, options={"text_column": "Q3"}),
    "lecture-one-voice": Case("lecture.vtt", _lecture_vtt(), speakers=[None] * 9),
    "podcast-markdown": Case(
        "changelog-42.md", PODCAST_MD,
        speakers=["Jerod Santo", "Adam Stacoviak", "Jerod Santo", "Adam Stacoviak"],
        times=[1203.16, 1215.02, 1560.0, 1564.5],
        texts={0: "Welcome back. I'm here with Adam,\nand we're talking [mostly] about open "
                  "source funding.",
               1: "It's a big topic & a hard one.", 2: "And we're back."}),
    "f4-timestamps": Case(
        "f4-interview.txt", F4_TXT, speakers=["I", "B", "I", "B"],
        times=[None, 5.2, 12.9, 15.0],
        texts={1: "Über eine Freundin, die dort schon gearbeitet hat."}),
    "zoom-vtt-saved-as-txt": Case(
        "GMT20230412_transcript.txt", ZOOM_TRANSCRIPT_TXT,
        speakers=["Priya Shah", "Daniel Kim", "Priya Shah"], times=[1.29, 4.8, 8.4],
        detected="WebVTT captions"),
    "srt-saved-as-txt": Case(
        "first-term.txt", SRT_AS_TXT, speakers=["Interviewer", "Teacher"], times=[1.0, 3.9],
        detected="SubRip captions"),
    "otter-txt": Case(
        "allotment.txt", OTTER_TXT, speakers=["Emma Clarke", "Sam Okoro", "Emma Clarke"],
        times=[0.0, 7.0, 15.0], texts={2: "And what did you grow first?"}),
    "article-not-dialogue": Case(
        "hirek.txt", ARTICLE_TXT, speakers=[None, None, None],
        texts={0: "Koronavírus: egyszerre zajlik a járvány és a tájékoztatás válsága"}),
    "trint-name-then-time": Case(
        "trint.txt", "Speaker 1 [00:00:05] So how did the garden start?\n"
        "Speaker 2 [00:00:09] In lockdown, with three of us.\nSpeaker 1 [00:00:15] Right.\n",
        speakers=["Speaker 1", "Speaker 2", "Speaker 1"], times=[5.0, 9.0, 15.0],
        texts={1: "In lockdown, with three of us."}),
    "sonix-glued-numbers": Case(
        "sonix.txt", "Speaker1: [00:00:05] Hello, can you hear me?\n"
        "Speaker2: [00:00:07] Yes, loud and clear.\n",
        speakers=["Speaker1", "Speaker2"], times=[5.0, 7.0]),
    "teams-unpadded-vtt": Case(
        "teams.vtt", "WEBVTT\n\n0:0:0.0 --> 0:0:5.120\n<v Jane Doe>Hello everyone.</v>\n\n"
        "0:0:5.500 --> 0:0:8.0\n<v Li Wei>Hi Jane.</v>\n",
        speakers=["Jane Doe", "Li Wei"], times=[0.0, 5.5]),
    "pseudonym-codes": Case(  # QualCoder's demo: the participant is "admin-1"
        "admin-1.txt", "Automation:         This call is now being recorded.\n\n"
        "Max Bigman:         Can I get your verbal consent to record?\n\n"
        "admin-1:     Sure.\n\nMax Bigman:         So what is your role?\n\n"
        "admin-1:     I coordinate educational technology.\n\n"
        "Max Bigman:         Any computer science before that?\n\n"
        "admin-1:     Not at all, nothing formal.\n",
        speakers=["Automation", "Max Bigman", "admin-1", "Max Bigman", "admin-1", "Max Bigman",
                  "admin-1"],
        texts={2: "Sure.", 6: "Not at all, nothing formal."}),
    "report-pdf": Case(
        "ward7-report.pdf", build=_report_pdf,
        speakers=["Interviewer", "Nurse Lee"] * 4),
}

# markup and timing residue that must never reach a segment
RESIDUE = re.compile(r"-->|\\\[|\\\]|\*\*|&#|&amp;|#\d\d:|<\d\d:\d\d|<c>|</c>|^\d+$|"
                     r"\[\d{1,2}:\d\d|WEBVTT|otter\.ai|SUMMARY KEYWORDS", re.MULTILINE)


def _write(case: Case, folder: Path) -> Path:
    path = folder / case.filename
    if case.build is not None:
        return case.build(path)
    path.write_text(case.content or "", encoding="utf-8")
    return path


def _read(case: Case, folder: Path):
    options = ImportOptions(**case.options)
    return read_document(_write(case, folder), options)


@pytest.mark.parametrize("name", list(FIXTURES))
def test_each_format_imports_right_with_default_options(name, tmp_path):
    case = FIXTURES[name]
    doc, segments, warnings = _read(case, tmp_path)
    assert [s.speaker for s in segments] == case.speakers, doc.detected
    if case.times is not None:
        assert [s.time_start for s in segments] == pytest.approx(case.times)
    for index, text in case.texts.items():
        assert segments[index].text == text
    for seg in segments:
        assert doc.text[seg.start:seg.end] == seg.text
    assert doc.detected.startswith(case.detected)
    assert warnings == []


def test_no_segment_anywhere_holds_markup_or_timing_residue(tmp_path):
    for name, case in FIXTURES.items():
        folder = tmp_path / name
        folder.mkdir()
        _, segments, _ = _read(case, folder)
        for seg in segments:
            assert not RESIDUE.search(seg.text), (name, seg.text)
            if seg.speaker:
                assert not re.search(r"[\[\]*:()]|\d:\d\d", seg.speaker), (name, seg.speaker)


def test_rolling_captions_keep_every_word_once_with_times(tmp_path):
    doc, segments, _ = _read(FIXTURES["youtube-auto-captions"], tmp_path)
    words = " ".join(s.text for s in segments).split()
    assert words.count("Chicago") == 1 and words.count("pizza") == 1
    assert words[:2] == ["good", "to"]  # the first cue's words (after a lone-space line)
    assert doc.time_at(doc.text.index("about")) == (5.14, 8.0)
    assert any("rolling captions" in note for note in doc.notes)


def test_one_voice_recording_is_cut_at_pauses_into_paragraphs(tmp_path):
    doc, segments, _ = _read(FIXTURES["lecture-one-voice"], tmp_path)
    # 900 words in three stretches between 3 s pauses, each cut into paragraphs
    assert all(len(s.text.split()) <= 120 for s in segments)
    assert all(s.text.endswith(".") for s in segments)  # at sentence ends
    ends = [s.time_end for s in segments]
    starts = [s.time_start for s in segments]
    assert 51.9 in ends and 55.0 in starts  # the pause ends a segment
    assert 106.9 in ends and 110.0 in starts
    assert any("pauses of 2 s" in note for note in doc.notes)


def test_a_shorter_pause_threshold_splits_more(tmp_path):
    path = _write(FIXTURES["lecture-one-voice"], tmp_path)
    _, segments, _ = read_document(path, ImportOptions(pause=0.05))
    assert len(segments) > 3


def test_sentences_keep_the_time_of_the_cue_they_start_in(tmp_path):
    path = _write(FIXTURES["caption-names-without-colon"], tmp_path)
    srt = path.read_text(encoding="utf-8").replace(
        "Not at first.", "Not at first.\n\n6\n00:00:14,000 --> 00:00:16,000\nTim Davis Later, "
        "yes. They ran the garden.")
    path.write_text(srt, encoding="utf-8")
    _, segments, _ = read_document(path, ImportOptions(segmentation="sentence"))
    assert [(s.text, s.time_start) for s in segments[-3:]] == [
        ("Not at first.", 11.3), ("Later, yes.", 14.0), ("They ran the garden.", 14.0)]


def test_zoom_clock_times_are_kept_as_given(tmp_path):
    doc, _, _ = _read(FIXTURES["zoom-closed-captions"], tmp_path)
    assert doc.metadata["clock_start"] == "19:00:25"


def test_qualtrics_wording_is_metadata_not_an_answer(tmp_path):
    doc, segments, _ = _read(FIXTURES["qualtrics-csv"], tmp_path)
    assert "What would make" not in doc.text and "ImportId" not in doc.text
    assert doc.metadata["question"] == "What would make the coaching program better?"
    assert doc.metadata["questions"]["Q5"] == "How many years have you taught?"
    assert len(segments) == 2


def test_podcast_breaks_and_music_are_not_speech(tmp_path):
    doc, segments, _ = _read(FIXTURES["podcast-markdown"], tmp_path)
    assert "Break" not in doc.text and "music" not in doc.text
    assert "laughter" not in " ".join(s.text for s in segments)


def test_otter_header_is_metadata_and_footer_is_dropped(tmp_path):
    doc, _, _ = _read(FIXTURES["otter-txt"], tmp_path)
    assert doc.metadata["keywords"] == ["allotment", "lockdown", "potatoes", "community"]
    assert doc.metadata["speakers"] == ["Emma Clarke", "Sam Okoro"]
    assert "Transcribed by" not in doc.text


def test_a_title_is_not_a_speaker_and_the_guess_is_shown(tmp_path):
    doc, segments, _ = _read(FIXTURES["article-not-dialogue"], tmp_path)
    assert all(s.speaker is None for s in segments)
    assert any("not dialogue" in note and "Koronavírus" in note for note in doc.notes)


def test_titles_repeated_per_record_in_a_comment_dump_are_not_speakers(tmp_path):
    # an NVivo source exported from YouTube comments: each record repeats its video's title
    records = []
    for title, comments in [("PSZ: Januártól több iskolában is leállhat az oktatás", 3),
                            ("Koronavírus: egyszerre zajlik a járvány és a válság", 3)]:
        for k in range(comments):
            records.append(f"HhkH__mfvlk\n{title}\n2021-10-30T08:45:00Z\n@user{k}\n"
                           f"Ez a {k}. hozzászólás a videóhoz.\n0\n")
    path = tmp_path / "videos_selection.txt"
    path.write_text("video_id\nvideo_title\n" + "".join(records), encoding="utf-8")
    doc, segments, _ = read_document(path, ImportOptions())
    assert {s.speaker for s in segments} == {None}
    assert any("not dialogue" in note for note in doc.notes)


def test_many_headings_used_once_are_not_speakers(tmp_path):
    path = tmp_path / "spec.txt"
    path.write_text("\n\n".join(f"{name}: the {name.lower()} part of the format, in bytes."
                                  for name in ["Header", "AliasList", "ParentList", "GlobList",
                                               "MagicList", "NamespaceList", "IconList"]),
                    encoding="utf-8")
    doc, segments, _ = read_document(path, ImportOptions())
    assert {s.speaker for s in segments} == {None} and len(segments) == 7


def test_a_title_listed_in_speakers_csv_is_a_speaker(tmp_path):
    path = _write(FIXTURES["article-not-dialogue"], tmp_path)
    _, segments, _ = read_document(path, ImportOptions(known_speakers=frozenset(
        {"Koronavírus"})))
    assert segments[0].speaker == "Koronavírus"


def test_two_role_labels_are_turns_even_with_a_long_answer(tmp_path):
    path = tmp_path / "email-interview.txt"
    path.write_text("Interviewer: Tell me about the first year.\n\nRespondent: Well, it began "
                    "badly.\n\n" + "We had no rota and no plan at all. " * 30 + "\n\n"
                    + "Then it got better. " * 30 + "\n", encoding="utf-8")
    _, segments, _ = read_document(path, ImportOptions())
    assert [s.speaker for s in segments] == ["Interviewer", "Respondent"]


def test_names_without_colon_need_to_recur(tmp_path):
    path = tmp_path / "one.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:04,000\nTim Davis There are several things.\n\n"
                    "2\n00:00:04,200 --> 00:00:06,000\nand then more words.\n", encoding="utf-8")
    _, segments, _ = read_document(path, ImportOptions())
    assert [s.speaker for s in segments] == [None]
    assert segments[0].text.startswith("Tim Davis There")
    _, segments, _ = read_document(path, ImportOptions(known_speakers=frozenset({"Tim Davis"})))
    assert segments[0].speaker == "Tim Davis"


def test_a_recurring_subject_in_captions_is_not_a_speaker(tmp_path):
    path = tmp_path / "sports.vtt"
    lines = ["Chicago Bulls are a basketball team.", "Chicago Bears play football.",
             "and the lake is right there.", "Chicago Fire play soccer."]
    path.write_text("WEBVTT\n\n" + "\n\n".join(
        f"00:00:{i * 3:02d}.000 --> 00:00:{i * 3 + 2:02d}.500\n{line}"
        for i, line in enumerate(lines)) + "\n", encoding="utf-8")
    _, segments, _ = read_document(path, ImportOptions())
    assert {s.speaker for s in segments} == {None}
    assert segments[0].text.startswith("Chicago Bulls are")


def test_a_tight_colon_once_is_not_a_label(tmp_path):
    path = tmp_path / "ratio.txt"
    path.write_text("Ann: The ratio was 3:1 in Berlin.\nBo: See Note:this.\nAnn: Ok.\n",
                    encoding="utf-8")
    _, segments, _ = read_document(path, ImportOptions())
    assert [s.speaker for s in segments] == ["Ann", "Bo", "Ann"]
    assert segments[1].text == "See Note:this."


def test_pdf_pages_hyphens_and_running_lines(tmp_path):
    doc, segments, _ = _read(FIXTURES["report-pdf"], tmp_path)
    assert [s.page for s in segments] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert segments[0].text == ("Tell me about the night shifts and how the organisation "
                                "around it worked?")
    assert "understaffed" in segments[1].text and "Franco-German" in segments[1].text
    # the sentence running over the page break continues on page 2
    assert segments[1].text.endswith("because nobody had planned for it.")
    assert segments[3].text.endswith("nurses were fine with the rota.")  # body lines stay
    assert "Ward 7 Evaluation Report" not in doc.text and "Page 2 of 4" not in doc.text


def test_a_scanned_pdf_is_refused_with_a_clear_line(tmp_path):
    path = write_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(InputError) as err:
        parse_file(path)
    assert "no text layer" in str(err.value) and "OCR" in str(err.value)
    assert str(err.value).startswith(f"{path}: ")


def test_empty_source_says_so(tmp_path):
    path = tmp_path / "empty-source.md"
    path.write_text("---\ntitle: NVivo source\n---\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty source"):
        parse_file(path)
    with pytest.raises(InputError, match="^empty source$"):
        from coder.ingest.turns import parse_turn_text

        parse_turn_text("  \n", name="x", fmt="txt", front_matter=False)


def test_warnings_name_the_file_line_and_what_to_try(tmp_path):
    glued = tmp_path / "glued.txt"
    answer = " ".join(["word"] * 400)
    glued.write_text(f"Ann: Hello?\nBob: {answer}\nAnn: Thanks.\n\nSam:x is one\n",
                     encoding="utf-8")
    _, _, warnings = read_document(glued, ImportOptions())
    text = "\n".join(warnings)
    assert f"{glued}: Bob holds 98% of the words" in text and "speakers.csv" in text
    assert f"{glued}:5: 'Sam' looks like a speaker label" in text
    long = tmp_path / "long.txt"
    long.write_text(f"Notes.\n\nAnn: Hello?\nBob: Hi.\nAnn: Fine.\n\n{'more words ' * 900}\n",
                    encoding="utf-8")
    _, _, warnings = read_document(long, ImportOptions())
    assert any(w.startswith(f"{long}: segment 4 (line 5) has 1,801 words") and
               "--segment paragraph" in w for w in warnings)
