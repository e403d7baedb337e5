"""What people and programs read: result files (``files``), console tables (``tables``), plots
(``plots``) and the HTML report (``report``). Uses ``core`` and ``theory``."""
