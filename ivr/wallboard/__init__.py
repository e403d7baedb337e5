"""The wallboard: a read-only page for the call centre's wall screen at /wallboard, behind a token
(`access`), fed by /wallboard/data (`page`) from the call log (`board`), the targets (`targets`)
and the now-cast file (`nowcast`). Not part of the public Open311 API."""
