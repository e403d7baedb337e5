"""The textbook formulas: Erlang C, non-preemptive priority M/M/c, Erlang A (``analytic``), and
what they say about a scenario (``steady_state``). Uses ``core`` only."""
