"""Tests of ivr/callflow: the webhooks and their TwiML (test_voice.py for voice.py...)."""
