"""The Textual workbench. Nothing outside this package imports textual."""

from coder.tui.app import CoderApp

__all__ = ["CoderApp"]
