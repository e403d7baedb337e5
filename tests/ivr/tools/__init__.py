"""Tests of ivr/tools: the commands and the phones (test_softphone.py for softphone.py...)."""
