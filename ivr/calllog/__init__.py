"""The call log: what the voice app writes and how it survives a slow or missing database.

``store`` is the log itself (its tables, the engine, the writes and reads), ``servicerequests``
the Open311 requests table beside it (numbered by ``requestnumbers``), ``recorder`` the one
bounded way the webhooks write to it, ``journal`` what the database did not take in time,
``export`` the documented CSV/JSON of calls and ``callerhash`` the key that hides caller numbers.
Uses ``errors`` and ``config`` only: nothing here knows Flask.
"""
