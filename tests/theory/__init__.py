"""Tests of queueing/theory."""
