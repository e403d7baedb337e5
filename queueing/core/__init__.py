"""The simulation core: scenario in, call records and their statistics out.

``scenario`` (schema and loader, on ``durations`` and ``distributions``) is what a run is about;
``arrivals`` and ``draws`` draw the callers, ``duty`` turns shifts into duty windows, ``model``
simulates one replication, ``records`` holds what happened to each caller, ``statistics`` and
``metrics`` measure it, ``runner`` runs replications on executors; ``limits`` and ``settling``
check a run before and after. Nothing here imports ``theory``, ``planning`` or ``output``.
"""
