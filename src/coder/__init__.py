"""coder: a qualitative research coding workbench."""

__version__ = "0.1.0"
