"""Recordings behind transcripts: finding them, and playing them with mpv (Textual-free)."""
