"""A content hash of an interaction table, recorded by training so later users of a checkpoint can tell
whether the data on disk is still the data the model was trained on."""

from __future__ import annotations

import hashlib

import pandas as pd

from recviz.data.types import INTERACTION_COLUMNS


def dataset_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the interaction table (columns user_id, item_id, rating, timestamp, in file order)."""
    hashed = pd.util.hash_pandas_object(frame[list(INTERACTION_COLUMNS)], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()
