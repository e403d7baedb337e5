"""Tests of ivr/calllog: the call log, its journal and export (test_store.py for store.py...)."""
