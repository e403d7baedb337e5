"""How the voice app is served in production: gunicorn's settings, and its start-up checked.

    gunicorn -c python:ivr.gunicorn_conf app:app        (what `make serve` runs)

Slow clients cannot hold it: gthread workers, whose threads each read one request at a time,
with a deadline for the request to arrive (`ivr.gunicorn_worker`); bounded request heads (the
app caps bodies at 64 KiB). docs/deployment.md says what to put in front.

Start-up mistakes. Importing this module runs `ivr.check_start()`, the checks `create_app` makes,
in gunicorn's master before it logs, binds or forks anything: a bad setting prints its one line
and gunicorn exits with status 2. A worker whose app still fails to load (e.g. the menu file
broken before a reload) prints the one line too and exits with gunicorn's APP_LOAD_ERROR, and
the master stops with status 4; neither prints a traceback.

Every name below that is a gunicorn setting is one (gunicorn ignores the others); the command
line and `GUNICORN_CMD_ARGS` override them.
"""

from __future__ import annotations

import os
import sys

from ivr.errors import IvrError

# Every interface on port 5000, as before; IVR311_BIND=127.0.0.1:8000 behind a local proxy.
bind = os.environ.get("IVR311_BIND", "0.0.0.0:5000")
# Two processes for two cores (the GIL); WEB_CONCURRENCY is gunicorn's usual override.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread with a read deadline: a slow client holds one thread for 10 s at most, never a worker.
worker_class = "ivr.gunicorn_worker.ThreadWorker"
# Threads per worker, made as needed: 64 slow clients per worker before a webhook waits (10 s).
threads = 64
# Kept-alive connections (from a proxy, or Twilio) wait this long for their next request.
keepalive = 5
# A worker whose event loop is stuck this long is killed and replaced (threads do not block it).
timeout = 30
# On stop or reload, requests under way get this long to finish (Twilio gives up at 15 s).
graceful_timeout = 15
# The request line: the app's longest URL (an Open311 query) is far shorter.
limit_request_line = 4094
# Header fields: Twilio sends about 15, a proxy adds a few X-Forwarded-* ones.
limit_request_fields = 50
# Bytes per header field: Twilio's are short, and the app caps the body (64 KiB) itself.
limit_request_field_size = 4096
# HTTP/1.1 only: an HTTP/2 connection lives across requests, and the read deadline would cut it.
http_protocols = "h1"
# No control socket: its default path is per user, so two servers of one user (two centres on one
# host, or the tests) would share it, and runtime control needs nothing the signals do not give.
control_socket_disable = True


def _check_or_exit() -> None:
    """The app's start-up checks, one line and status 2 on a mistake (see the module docstring)."""
    from ivr import check_start

    try:
        check_start()
    except IvrError as exc:
        print(exc.format_message(), file=sys.stderr, flush=True)
        sys.exit(exc.exit_code)


_check_or_exit()
