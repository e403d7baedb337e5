"""The Open311 GeoReport v2 API (``/open311/v2``): ``api`` the routes (``open311.yaml`` their
OpenAPI description), ``apigate`` the bounds every request runs under, ``spark`` the XML and
JSON formats, ``w3cdatetime`` its times. Uses the menu (the services), ``context`` and
``calllog`` (the requests table); nothing of ``callflow``."""
