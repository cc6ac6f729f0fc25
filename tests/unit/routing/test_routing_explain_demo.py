from __future__ import annotations

import time

from multistore.routing import CandidateStore, route

from .conftest import COSTS, PEOPLE_SQUARE


def test_explanation_names_the_only_holder_and_the_nearest_fill(shanghai):
    plan = route(
        lines={"TEA": 2, "KETTLE": 1, "RICE": 1}, candidates=shanghai, destination=PEOPLE_SQUARE
    )
    text = "\n".join(plan.explanation)
    assert "go in" in plan.explanation[0]
    assert "Filling each line from the nearest store holding it" in text
    assert "proven optimal" in text


def test_explanation_reports_unfulfilled_lines_and_reasons(shanghai):
    plan = route(lines={"KETTLE": 50}, candidates=shanghai, destination=PEOPLE_SQUARE)
    assert any("KETTLE: 40 unit(s) cannot ship: only 10 in stock" in e for e in plan.explanation)


def test_explanation_can_be_turned_off(shanghai):
    plan = route(
        lines={"TEA": 1}, candidates=shanghai, destination=PEOPLE_SQUARE, policy={"explain": False}
    )
    assert () == plan.explanation


def test_unreachable_stores_are_counted_with_a_large_network():
    far = [
        CandidateStore(
            store_id=f"F{i}", location=(39.9, 116.4), stock={"A": 1}, costs=COSTS, max_radius_km=5.0
        )
        for i in range(70)
    ]
    near = CandidateStore(store_id="N", location=PEOPLE_SQUARE, stock={"A": 1}, costs=COSTS)
    plan = route(lines={"A": 1}, candidates=[*far, near], destination=PEOPLE_SQUARE)
    assert ("N",) == plan.store_ids
    assert any("70 store(s) are outside delivery range" in e for e in plan.explanation)


def test_demo_section_runs_quickly():
    from multistore.demo.routing import run

    lines: list[str] = []
    start = time.perf_counter()
    run(lines.append)
    assert time.perf_counter() - start < 2.0
    assert any("nearest-store fill" in line for line in lines)
