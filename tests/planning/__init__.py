"""Tests of queueing/planning."""
