"""The planner's and analyst's tools built on runs: paired comparison (``compare``), grids over
scenario fields (``sweep``), the staffing search (``staff``), rosters (``roster``), a scenario
from a call log (``calibrate``). Every one returns results, never text. Uses ``core`` and ``theory``."""
