"""The recommendation's decision from measured figures (no model): memory, speed against
the budget, qualification, and the order among the models that pass."""

from __future__ import annotations

from dataclasses import replace

from agent.recommend.cost import SHIPPED, CostProfile, QuestionCost
from agent.recommend.decide import GIB, ModelFacts, Needs, Observed, recommend
from agent.recommend.explain import as_data, explain, table
from agent.recommend.machine import MachineFacts
from agent.recommend.speed import SpeedFigures

SMALL, LARGE, TINY = "qwen-small", "qwen-large", "tiny"
MACHINE = MachineFacts(cpu="test CPU", cores=2, memory_total=24 * GIB,
                       memory_available=20 * GIB, load_1min=0.3, llama_cpp="0.3.36")
COST = CostProfile(typical=QuestionCost(600, 60), demanding=QuestionCost(1500, 100),
                   questions=10, source="test figures")
NEEDS = Needs(budget_s=300, cost=COST, require_qualified=False)


def speed(threads: int, prompt_tps: float, gen_tps: float, load: float = 0.2) -> SpeedFigures:
    return SpeedFigures(threads=threads, prompt_tps=prompt_tps, gen_tps=gen_tps, load_s=0.5,
                        memory_bytes=0, n_ctx=1024, load_1min=load,
                        measured_at="2026-12-04T22:00:00+00:00")


def model(name: str, params: float, *speeds: SpeedFigures, memory: float = 1.0,
          qualification: str = "qualified", present: bool = True) -> ModelFacts:
    return ModelFacts(name=name, file_size=int(memory * GIB * 0.8), present=present,
                      memory_need=int(memory * GIB), memory_measured=True,
                      parameters=int(params * 1e9), speeds=speeds,
                      qualification=qualification,  # type: ignore[arg-type]
                      qualification_detail="quick run of 2026-12-04T22:00, answers 100%")


def fleet(**large: object) -> list[ModelFacts]:
    big = model(LARGE, 1.78, speed(1, 60, 8), speed(2, 110, 14), memory=1.4)
    return [
        model(SMALL, 0.63, speed(1, 180, 25), speed(2, 320, 40), memory=0.6),
        replace(big, **large),  # type: ignore[arg-type]
        model(TINY, 0.13, speed(1, 900, 90), memory=0.2, qualification="not_qualified"),
    ]


def test_the_largest_qualified_model_that_answers_in_time_is_chosen_with_its_best_threads(
) -> None:
    r = recommend(fleet(), MACHINE, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == LARGE and r.chosen.threads == 2
    # 1500/110 + 100/14 s for a demanding question at 2 threads.
    assert r.chosen.demanding_s is not None and abs(r.chosen.demanding_s - 20.78) < 0.01
    words = explain(r)
    assert words[0].startswith(f"Recommended: {LARGE} with 2 threads.")
    assert "largest approved chat model" in words[0] and "against 300 s per question" in words[0]
    assert f'[model] name = "{LARGE}" and threads = 2' in words[1]
    small = next(w for w in words if w.startswith(SMALL))
    assert f"not chosen: smaller than {LARGE}" in small
    tiny = next(w for w in words if w.startswith(TINY))
    assert "not recommended: it failed qualification on this site" in tiny
    assert "RECOMMENDED" in table(r).splitlines()[2]


def test_a_model_too_slow_for_the_budget_is_named_but_not_recommended() -> None:
    slow = (speed(1, 12, 1.0), speed(2, 15, 1.5))
    r = recommend(fleet(speeds=slow), MACHINE, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == SMALL
    large = next(v for v in r.verdicts if v.name == LARGE)
    assert not large.recommendable and large.demanding_s is not None
    assert large.demanding_s > NEEDS.budget_s / 2
    [why] = large.blockers
    assert "a demanding question would take about 167 s" in why  # 1500/15 + 100/1.5
    assert "more than 150 s (the budget of 300 s per question over 2" in why
    # The same model on a tighter budget, and with a generous one.
    assert recommend(fleet(), MACHINE, replace(NEEDS, budget_s=40), SMALL).chosen.name == SMALL  # type: ignore[union-attr]
    generous = replace(NEEDS, budget_s=400)
    assert recommend(fleet(speeds=slow), MACHINE, generous, SMALL).chosen.name == LARGE  # type: ignore[union-attr]


def test_memory_free_now_and_memory_in_all() -> None:
    tight = replace(MACHINE, memory_available=2 * GIB)  # 1 GiB kept for the rest
    r = recommend(fleet(), tight, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == SMALL
    [why] = next(v for v in r.verdicts if v.name == LARGE).blockers
    assert "needs about 1.4 GiB, but only 2.0 GiB of 24.0 GiB are free now" in why
    small_box = replace(MACHINE, memory_total=2 * GIB, memory_available=2 * GIB)
    [why] = next(v for v in recommend(fleet(), small_box, NEEDS, SMALL).verdicts
                 if v.name == LARGE).blockers
    assert "more than this machine has (2.0 GiB in all" in why


def test_qualification_required_unqualified_models_are_named_not_recommended() -> None:
    required = replace(NEEDS, require_qualified=True)
    r = recommend(fleet(qualification="never"), MACHINE, required, current=SMALL)
    assert r.chosen is not None and r.chosen.name == SMALL
    large = next(v for v in r.verdicts if v.name == LARGE)
    assert not large.recommendable
    assert large.blockers == (f"it has never been qualified on this site (run `plantagent "
                              f"models qualify {LARGE}`) and the policy requires it",)
    # Not required: still the qualified one first, and the larger one's next step named.
    r = recommend(fleet(qualification="never"), MACHINE, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == SMALL
    line = next(w for w in explain(r) if w.startswith(LARGE))
    assert "not chosen: it is larger and fits, but has not been qualified" in line
    assert f"`plantagent models qualify {LARGE}`" in line
    assert "This site already runs it" in explain(r)[1]


def test_with_no_qualified_model_an_unqualified_one_is_recommended_with_a_warning() -> None:
    models = [replace(m, qualification="never") for m in fleet()[:2]]
    r = recommend(models, MACHINE, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == LARGE
    assert "has not been qualified on this site: run `plantagent models qualify" in explain(r)[0]


def test_nothing_recommendable_says_why_for_each_model() -> None:
    models = [model(SMALL, 0.63, present=False, memory=0.6),
              model(LARGE, 1.78, memory=1.4)]  # present but never measured
    r = recommend(models, MACHINE, NEEDS, current=SMALL)
    assert r.chosen is None
    words = explain(r)
    assert words[0].startswith("No approved chat model can be recommended")
    assert any(f"`plantagent models fetch {SMALL}`" in w for w in words)
    assert any("`plantagent models recommend --measure`" in w for w in words)
    assert as_data(r)["recommended"] is None


def test_thread_counts_beyond_the_cores_and_busy_measurements() -> None:
    one_core = replace(MACHINE, cores=1)
    r = recommend(fleet(), one_core, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.threads == 1
    busy = fleet(speeds=(speed(1, 60, 8, load=3.5),))
    r = recommend(busy, MACHINE, NEEDS, current=SMALL)
    large = next(v for v in r.verdicts if v.name == LARGE)
    assert any("measured while the machine was busy (load 3.5 on 2 cores)" in n
               for n in large.notes)


def test_the_shipped_cost_profile_is_sane() -> None:
    assert SHIPPED.demanding.prompt_tokens >= SHIPPED.typical.prompt_tokens > 0
    assert SHIPPED.demanding.gen_tokens >= SHIPPED.typical.gen_tokens > 0


def test_the_qualification_runs_own_question_times_count_when_they_were_slower() -> None:
    # Its run took 37 s at most with 1 thread; at 2 threads, generation measured 14/8 faster.
    seen = Observed(mean_s=14, max_s=37, threads=1)
    r = recommend(fleet(observed=seen), MACHINE, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == LARGE and r.chosen.threads == 2
    assert r.chosen.demanding_s is not None and abs(r.chosen.demanding_s - 37 * 8 / 14) < 0.01
    # A typical question: the prediction (600/110 + 60/14 s) is slower than the run's mean.
    assert r.chosen.typical_s is not None and abs(r.chosen.typical_s - 9.74) < 0.01
    assert "its qualification run here took 14 s a question on average and 37 s at most" \
        in " ".join(r.chosen.notes)
    assert "or its qualification run where that was slower" in explain(r)[0]
    # A run whose slowest question used more than half the budget: not recommended.
    slow = Observed(mean_s=60, max_s=280, threads=1)
    r = recommend(fleet(observed=slow), MACHINE, NEEDS, current=SMALL)
    assert r.chosen is not None and r.chosen.name == SMALL
    [why] = next(v for v in r.verdicts if v.name == LARGE).blockers
    assert "a demanding question would take about 160 s" in why  # 280 * 8 / 14
