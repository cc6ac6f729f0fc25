from __future__ import annotations

import pytest

from multistore.routing import CandidateStore, ShipmentCosts

COSTS = ShipmentCosts(base="6", per_km="0.01", per_unit="0.2", per_unit_km="0.002")
PEOPLE_SQUARE = (31.2304, 121.4737)


@pytest.fixture
def costs() -> ShipmentCosts:
    return COSTS


@pytest.fixture
def shanghai() -> list[CandidateStore]:
    """Four Shanghai stores around People's Square."""
    return [
        CandidateStore(
            store_id="JA",
            name="Jing'an",
            location=(31.2235, 121.4453),
            stock={"TEA": 5, "MILK": 2},
            costs=COSTS,
            pickup=True,
        ),
        CandidateStore(
            store_id="PD",
            name="Pudong",
            location=(31.2397, 121.4998),
            stock={"TEA": 1, "RICE": 4, "MILK": 6},
            costs=COSTS,
        ),
        CandidateStore(
            store_id="XH",
            name="Xuhui",
            location=(31.1940, 121.4368),
            stock={"RICE": 2, "KETTLE": 1},
            costs=COSTS,
            pickup=True,
        ),
        CandidateStore(
            store_id="MH",
            name="Minhang",
            location=(31.1128, 121.3817),
            stock={"TEA": 9, "RICE": 9, "MILK": 9, "KETTLE": 9},
            costs=COSTS,
        ),
    ]
