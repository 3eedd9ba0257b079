"""The explanation engine: one history through one checkpoint → one :class:`Explanation`.

- **Entry point.** :func:`explain_history` (``checkpoint, user, edits, settings``) is what the app, ``recviz
  explain`` and the reports run: it takes the user's real history (or an uploaded one), applies the edits once
  and calls :func:`explain`, which returns the lists (excluding the whole history), interests, attention,
  Captum attributions, deletion-curve faithfulness, interest health and the diff against the unedited history.
- **The edit type.** :class:`HistoryEdits` is an ordered tuple of :class:`HistoryEdit` operations (remove an
  item, add one as the most recent, move one to a position); it parses from and formats to the URL form
  (``-ID``, ``+ID``, ``ID@P``), and an Explanation records its summary (removed, added, order).
- **Settings** are :class:`recviz.config.ExplainSettings`, validated once for every source; each fusion mode
  and attribution method is a descriptor in :mod:`recviz.options` (name, label, help, parameters, needs).
- **Counterfactuals** (``counterfactual``): :func:`find_removal` (the fewest history items whose removal drops
  a recommendation), :func:`why_not` (an item's ranks and the fewest additions that bring it in) and
  :func:`counterfactual_check` (do a method's top-k items form a counterfactual?), each edit verified by
  re-scoring.
- **The interest map** (``projection``): a UMAP of the item embeddings stored with the checkpoint
  (``mapping.project_checkpoint`` fits it), on which interest vectors are placed without UMAP.
"""

from recviz.explain.attributions import METHODS, supports
from recviz.explain.counterfactual import counterfactual_check, find_removal, why_not
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
    "counterfactual_check",
    "explain",
    "explain_history",
    "find_removal",
    "load_item_map",
    "load_population",
    "population_points",
    "project_checkpoint",
    "save_item_map",
    "supports",
    "user_history",
    "user_ids",
    "why_not",
]
