"""What both layer tests (the planner's and the voice half's) ask of an import graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def import_loops(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Every loop of imports in ``graph`` (module -> the modules it imports), each as the path
    that closes it (``[a, b, a]``); a depth-first walk, so each loop is found once."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    loops: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for used in graph[module]:
            if state.get(used) == 1:
                loops.append(path[path.index(used) :] + [used])
            elif used not in state:
                walk(used, [*path, used])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    return loops
