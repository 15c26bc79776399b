"""The database schema as an ordered list of migrations.

Migration *n* brings a database from ``PRAGMA user_version`` *n-1* to *n*. Add new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

ORIGINS = ("manual", "suggestion", "auto", "import", "consensus")
MEMO_KINDS = ("segment", "code", "transcript", "study")

_V1 = f"""
CREATE TABLE transcripts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source_path TEXT,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    segmentation TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{{}}',
    text TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE speakers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE speaker_attributes (
    speaker_id INTEGER NOT NULL REFERENCES speakers(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (speaker_id, key)
) WITHOUT ROWID;
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    speaker_id INTEGER REFERENCES speakers(id),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    time_start REAL,
    time_end REAL,
    text TEXT NOT NULL,
    lemmas TEXT NOT NULL DEFAULT '',
    tokens TEXT NOT NULL DEFAULT '',
    UNIQUE (transcript_id, ordinal),
    CHECK (start <= end)
);
CREATE INDEX segments_speaker ON segments(speaker_id);
CREATE TABLE codes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    parent_id INTEGER REFERENCES codes(id) ON DELETE RESTRICT,
    position INTEGER NOT NULL DEFAULT 0,
    definition TEXT NOT NULL DEFAULT '',
    include TEXT NOT NULL DEFAULT '',
    exclude TEXT NOT NULL DEFAULT '',
    examples TEXT NOT NULL DEFAULT '[]',
    color TEXT,
    key TEXT UNIQUE,
    patterns TEXT NOT NULL DEFAULT '[]',
    exclusive INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK (parent_id IS NULL OR parent_id != id)
);
CREATE INDEX codes_parent ON codes(parent_id);
CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE RESTRICT,
    coder TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ({", ".join(repr(o) for o in ORIGINS)})),
    memo TEXT,
    span_start INTEGER,
    span_end INTEGER,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX codings_unique
    ON codings(segment_id, code_id, coder, coalesce(span_start, -1), coalesce(span_end, -1));
CREATE INDEX codings_code ON codings(code_id);
CREATE INDEX codings_coder ON codings(coder, segment_id);
CREATE TABLE reviewed (
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    coder TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, coder)
) WITHOUT ROWID;
CREATE INDEX reviewed_coder ON reviewed(coder);
CREATE TABLE memos (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(repr(k) for k in MEMO_KINDS)})),
    target_id INTEGER,
    coder TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX memos_target ON memos(kind, coalesce(target_id, -1), coder);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch INTEGER NOT NULL,
    ts TEXT NOT NULL,
    coder TEXT NOT NULL,
    command TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX events_batch ON events(batch);
CREATE INDEX events_coder ON events(coder, batch);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
-- New segments are indexed in bulk by store.transcripts (five times faster than a
-- per-row trigger); deletes and text changes keep the index in step through triggers.
CREATE VIRTUAL TABLE segments_fts USING fts5(
    text, content='segments', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER segments_fts_update AFTER UPDATE OF text ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
END;
"""

# The reconciliation trail: one row per consensus decision on a segment. The row keeps the
# transcript name, segment number and what each coder had, so it stays readable after the
# segment or its codes change (the segment link becomes NULL if the segment is deleted).
_CONSENSUS_TRAIL = """
CREATE TABLE consensus_decisions (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    transcript TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    consensus TEXT NOT NULL,
    adjudicator TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('manual', 'auto')),
    note TEXT NOT NULL DEFAULT '',
    codes TEXT NOT NULL DEFAULT '[]',
    previous TEXT NOT NULL DEFAULT '[]',
    coders TEXT NOT NULL DEFAULT '{}',
    decided_at TEXT NOT NULL
);
CREATE INDEX consensus_decisions_segment ON consensus_decisions(segment_id);
"""

VERDICTS = ("accept", "reject")

# Suggestion feedback: what a coder did with a suggested code, one row per segment, code and
# coder (the latest verdict). The learner reads rejections as negatives. Deleting a segment
# or a code deletes its feedback: a verdict about something gone teaches nothing.
_SUGGESTION_FEEDBACK = f"""
CREATE TABLE suggestion_feedback (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE,
    coder TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ({", ".join(repr(v) for v in VERDICTS)})),
    score REAL,
    sources TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    UNIQUE (segment_id, code_id, coder)
);
CREATE INDEX suggestion_feedback_coder ON suggestion_feedback(coder, verdict);
CREATE INDEX suggestion_feedback_code ON suggestion_feedback(code_id);
"""

# Quotes a report writer pinned to, or excluded from, a code's quote bank.
_QUOTE_CHOICES = """
CREATE TABLE quote_choices (
    id INTEGER PRIMARY KEY,
    code_id INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    choice TEXT NOT NULL CHECK (choice IN ('pin', 'exclude')),
    coder TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (code_id, segment_id)
);
"""

# The page a segment starts on, for documents that have pages (PDF): quotes cite "p. 12".
_SEGMENT_PAGE = """
ALTER TABLE segments ADD COLUMN page INTEGER;
"""

# A transcript's recording, linked by `coder media link` (or an import): a path relative to
# the study when the file is inside it, else absolute. The recording itself is never copied.
_MEDIA_LINKS = """
CREATE TABLE media_links (
    transcript_id INTEGER PRIMARY KEY REFERENCES transcripts(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    linked_at TEXT NOT NULL
);
"""

# Codes that are only folders for their children (other tools' non-codable codes, REFI-QDA
# isCodable="false"): nobody applies them. An exclusive group is not codable either, by its
# own rule.
_CODABLE = """
ALTER TABLE codes ADD COLUMN codable INTEGER NOT NULL DEFAULT 1;
"""

# Who did it on a shared server: the operating-system account beside the coder name (which
# anyone can set with --coder). Empty for events written before this migration.
_EVENT_OS_USER = """
ALTER TABLE events ADD COLUMN os_user TEXT NOT NULL DEFAULT '';
"""

# How a coder likes the workbench (panel width, the coders the team screens compare):
# remembered per coder in this database, not study data (no events, not merged).
_PREFERENCES = """
CREATE TABLE preferences (
    coder TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (coder, key)
);
"""

MIGRATIONS: list[str] = [_V1, _CONSENSUS_TRAIL, _SUGGESTION_FEEDBACK, _QUOTE_CHOICES,
                         _SEGMENT_PAGE, _MEDIA_LINKS, _CODABLE, _EVENT_OS_USER, _PREFERENCES]
SCHEMA_VERSION = len(MIGRATIONS)
