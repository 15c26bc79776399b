"""`python -m coder`: the same as the `coder` command."""

from coder.cli import main

main()
