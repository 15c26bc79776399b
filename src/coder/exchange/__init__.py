"""REFI-QDA exchange: write and read ``.qdc`` codebooks and ``.qdpx`` projects.

:mod:`.write` exports a study, :mod:`.read` parses what other tools write (safely),
:mod:`.load` brings a parsed project into a study. lxml is imported only inside functions.
"""
