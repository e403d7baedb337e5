"""The planner's and analyst's tools built on runs: paired comparison (``compare``), grids over
scenario fields (``sweep``), the staffing search (``staff``). Uses ``core`` and ``theory``."""
