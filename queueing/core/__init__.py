"""The simulation core: scenario in, call records and their statistics out.

``scenario`` (the schema, on ``durations`` and ``distributions``) is what a run is about, and
``scenario_file`` reads it from YAML; ``arrivals`` and ``draws`` draw the callers, ``duty`` turns
shifts into duty windows, ``schedule`` numbers the agents and holds their windows for a run,
``model`` simulates one replication, ``records`` holds what happened to each caller,
``statistics`` and ``metrics`` measure it (``cost`` among them), ``runner`` runs replications on
executors; ``limits`` and ``settling`` check a run before and after. Nothing here imports
``theory``, ``planning`` or ``output``.
"""
