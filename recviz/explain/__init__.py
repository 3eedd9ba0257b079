"""The explanation engine: ``explain()`` → :class:`Explanation` (attention, Captum attributions,
faithfulness, interest health, diff) and the interest map (``projection``, fitted by ``mapping``)."""

from recviz.explain.attributions import METHODS, supports
from recviz.explain.edits import EditError, HistoryEdit, HistoryEdits
from recviz.explain.explain import explain
from recviz.explain.mapping import project_checkpoint
from recviz.explain.projection import (
    ItemMap,
    Population,
    build_item_map,
    load_item_map,
    load_population,
    population_points,
    save_item_map,
)
from recviz.explain.types import SCHEMA_VERSION, Explanation, SchemaError
from recviz.explain.users import UserHistory, explain_history, user_history, user_ids

__all__ = [
    "METHODS",
    "SCHEMA_VERSION",
    "Explanation",
    "ItemMap",
    "Population",
    "SchemaError",
    "EditError",
    "HistoryEdit",
    "HistoryEdits",
    "UserHistory",
    "build_item_map",
    "explain",
    "explain_history",
    "load_item_map",
    "load_population",
    "population_points",
    "project_checkpoint",
    "save_item_map",
    "supports",
    "user_history",
    "user_ids",
]
