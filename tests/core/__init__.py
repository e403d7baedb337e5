"""Tests of queueing/core: one file per module (test_model.py for model.py...)."""
