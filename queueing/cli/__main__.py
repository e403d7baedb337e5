"""``python -m queueing.cli``: the ``ivr311`` command."""

from . import main

main()
