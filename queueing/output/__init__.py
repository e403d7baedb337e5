"""Everything a command writes or prints: result files (``files``), console tables (``tables``),
plots, the HTML report (``report``), scenario files (``scenario_yaml``) and the files of staff,
roster and calibrate. Uses ``core``, ``theory`` and ``planning``'s results."""
