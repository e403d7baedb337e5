"""The tests, a package so that folders mirroring queueing/ may share file names (test_roster.py)."""
