"""staff and roster with callers' languages: a class's targets apply to each of its languages,
the Erlang start gives each language's load to the pools that speak it, and a language no open
pool takes is one line."""

from __future__ import annotations

import json

from queueing.core.runner import LocalExecutor
from queueing.core.scenario_file import parse_scenario
from queueing.planning.staff import check_targets, erlang_staffing, find_staffing
from queueing.theory.analytic import erlang_c_service_level
from tests.support.cli import invoke, write_file

H = 3600.0

# Two languages, a pool for each, no bilingual agent: each pool is an M/M/c queue of its
# language's calls, so Erlang C says how many agents each needs.
DEDICATED = """
name: one class, a pool per language
seed: 11
horizon: 24h
replications: {reps}
classes:
  "311":
    priority: 1
    arrivals: {{rate_per_hour: 75}}
    handle_time: {{dist: exponential, mean: 4m}}
    languages: {{en: 0.8, es: 0.2}}
staffing:
  pools:
    - {{name: english, serves: ["311"], agents: 1, languages: [en]}}
    - {{name: spanish, serves: ["311"], agents: 1, languages: [es]}}
targets:
  "311": [{{within: 20s, share: 0.8}}]
"""

# 311 in English and Spanish: English call-takers answer 911 and 311, a bilingual pool 311 only.
BILINGUAL = """
name: 311 with Spanish callers
seed: 5
horizon: 8h
replications: 6
classes:
  "911":
    priority: 1
    arrivals: {rate_per_hour: 20}
    handle_time: {dist: exponential, mean: 4m}
    patience: {dist: exponential, mean: 3m}
  "311":
    priority: 2
    arrivals: {rate_per_hour: 60}
    handle_time: {dist: exponential, mean: 3m}
    patience: {dist: exponential, mean: 5m}
    languages: {en: 0.75, es: 0.25}
staffing:
  pools:
    - {name: call-takers, serves: ["911", "311"], agents: 3, languages: [en]}
    - {name: bilingual, serves: ["311"], agents: 1, languages: [en, es]}
targets:
  "911": [{within: 15s, share: 0.9}]
  "311": [{within: 60s, share: 0.8}]
roster:
  interval: 1h
  start_every: 1h
  shift_lengths: [4h]
  pools:
    call-takers: {cost_per_hour: 40.0}
    bilingual: {cost_per_hour: 45.0}
"""


def erlang_c_agents(rate_per_h: float, handle_s: float, within_s: float, share: float) -> int:
    """The smallest head-count whose Erlang C service level reaches ``share``."""
    c = int(rate_per_h * handle_s / H) + 1
    while erlang_c_service_level(c, rate_per_h / H, handle_s, within_s) < share:
        c += 1
    return c


def test_the_erlang_start_gives_each_language_its_load_in_the_pool_speaking_it() -> None:
    """Each dedicated pool's Erlang answer is Erlang C's for its own language's calls (7 for
    60 English calls an hour, 3 for 15 Spanish ones), not for half the class's."""
    scenario = parse_scenario(DEDICATED.format(reps=2))
    expected = [erlang_c_agents(60, 240, 20, 0.8), erlang_c_agents(15, 240, 20, 0.8)]
    assert expected == [7, 3]
    assert erlang_staffing(scenario, 6 * H) == [expected] * 4


def test_staff_gives_each_language_pool_erlang_c_head_count() -> None:
    """Stationary arrivals, exponential handle times, no hang-ups, one interval a day: the
    head-count staff finds for each language's pool is, within one agent, the smallest meeting
    Erlang C's service level for that language's load (the search judges each language's callers
    at a lower confidence bound over 40 replications, so it may ask one agent more)."""
    scenario = parse_scenario(DEDICATED.format(reps=40))
    result = find_staffing(scenario, LocalExecutor(2), interval_s=24 * H)
    ((english, spanish),) = result.agents
    assert abs(english - 7) <= 1 and abs(spanish - 3) <= 1, result.agents
    assert result.targets_met
    languages = result.evaluation.summary["classes"]["311"]["languages"]
    for lang in ("en", "es"):  # each language's calls meet the target, not only the class's
        assert languages[lang]["service_level"][0]["share"]["value"] >= 0.8, lang


def test_a_bilingual_pool_gets_the_agents_its_language_needs(tmp_path) -> None:
    """Only the bilingual pool takes Spanish callers: staff gives it enough for them to meet
    311's target (judged on them apart), and staffing.json says so per language. Judged on the
    class alone, the English callers' good service hid the Spanish callers' (67.5% in the
    24-hour version of this centre)."""
    path = write_file(tmp_path, BILINGUAL, "bilingual.yaml")
    out = tmp_path / "staffing"
    result = invoke("staff", str(path), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "staffing.json").read_text())
    spanish = [t for t in doc["targets"] if t.get("language") == "es"]
    assert spanish and spanish[0]["class"] == "311"
    assert spanish[0]["windows"]["met"] == spanish[0]["windows"]["judged"] > 0
    sim = invoke("simulate", str(out / "staffing.yaml"), "--out", str(tmp_path / "sim"), "--replications", "20")
    assert sim.exit_code == 0, sim.output
    summary = json.loads((tmp_path / "sim" / "summary.json").read_text())
    for lang in ("en", "es"):
        (level,) = summary["classes"]["311"]["languages"][lang]["service_level"]
        assert level["share"]["value"] >= 0.8, (lang, level)


def test_roster_meets_each_language_target_in_its_check(tmp_path) -> None:
    """roster runs on the bilingual centre and its check judges each language's callers too."""
    from queueing import load_scenario, roster

    path = write_file(tmp_path, BILINGUAL, "bilingual.yaml")
    result = roster(load_scenario(path), jobs=2)
    assert result.targets_met
    check = check_targets(result.evaluation, result.interval_s, 0.9)
    assert check.met
    assert [(j.class_name, j.language) for j in check.judged] == [
        ("911", None),
        ("311", None),
        ("311", "en"),
        ("311", "es"),
    ]


def test_a_language_no_pool_takes_is_one_line(tmp_path) -> None:
    """Spanish callers of a class no pool serving it speaks (and no interpreter): staff says so
    in one line instead of searching for agents that could never answer them."""
    text = BILINGUAL.replace("languages: [en, es]", "languages: [en]")
    path = write_file(tmp_path, text, "nobody.yaml")
    result = invoke("staff", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "311's callers speaking es cannot be answered: no pool serving 311 speaks es "
        "(give one languages: [es], or 311 an interpreter)"
    ]
    assert not (tmp_path / "out").exists()


def test_a_language_whose_pool_is_closed_while_its_callers_call_is_one_line(tmp_path) -> None:
    """The only Spanish-speaking pool opens at 02:00, the class's calls come from midnight."""
    text = BILINGUAL.replace("languages: [en, es]}", "languages: [es], hours: {open: 2h, close: 8h}}")
    path = write_file(tmp_path, text, "late.yaml")
    result = invoke("staff", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "311's callers speaking es cannot be answered at 00:00-01:00: no pool serving 311 open then speaks es "
        "(open one that does, or give 311 an interpreter)"
    ]
