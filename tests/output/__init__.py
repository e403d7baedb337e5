"""Tests of queueing/output."""
