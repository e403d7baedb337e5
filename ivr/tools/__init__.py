"""The voice half's commands and the phones that drive it: ``cli`` (``calls export``, ``dial``,
``callers``), ``requests_cli`` (``requests``), ``softphone`` (the one TwiML walker) and
``callers`` (simulated callers). They join ``ivr311`` through the ``ivr311.commands`` entry
points; nothing else in ``ivr/`` imports them."""
