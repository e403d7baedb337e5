"""Tests of queueing/cli: the commands as a user drives them."""
