"""Tests of ivr/open311: the GeoReport v2 API (test_api.py for api.py...)."""
