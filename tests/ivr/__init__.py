"""Tests of ivr/, the voice half: a folder per part (callflow, calllog, open311, tools), the
package's top-level modules here (test_menu.py for menu.py...). Fixtures are in conftest.py;
helpers are modules here (twilio_sim, open311_client, call_log, outages, workers), imported as
``tests.ivr.x``."""
