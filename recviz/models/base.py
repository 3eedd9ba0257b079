"""The model contract every recommender implements; scoring, fusion, losses, metrics and explanations are
written once against it (see DESIGN.md, "The model contract")."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor


class NoAttentionError(NotImplementedError):
    """Raised by ``attention()`` of a model that has no attention over the history (e.g. popularity).

    Consumers catch it and say so visibly (the UI shows "this model has no attention") instead of faking one.
    """


@runtime_checkable
class MultiInterestModel(Protocol):
    """A recommender that turns a padded batch of histories into K interest vectors.

    Shapes: ``items`` LongTensor[B, L] of dense indices (0 = padding), ``mask`` BoolTensor[B, L] true on real
    items. Histories are left-aligned or right-aligned consistently by the caller (see ``pad_histories``).
    """

    name: str
    num_interests: int          # K (1 for single-interest baselines)
    # the longest history the model takes; longer ones are truncated (oldest dropped)
    max_length: int
    has_attention: bool         # False: attention() raises NoAttentionError

    def item_embeddings(self) -> Tensor: ...                        # [N, d]  row 0 is padding
    def interests(self, items: Tensor, mask: Tensor) -> Tensor: ... # [B, K, d]
    def attention(self, items: Tensor, mask: Tensor) -> Tensor: ... # [B, K, L]  rows sum to 1 over mask
    # [B, L, d]  the layer Captum attributes on
    def embed_history(self, items: Tensor) -> Tensor: ...
    # [B, K, d]
    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor: ...
    def config(self) -> dict: ...                                   # every argument that rebuilds the model


class OwnFusion(Protocol):
    """Optional part of the contract: a model that fuses its interests with its own user-level weights
    (SINE: ``R(i) = Σ_j w_j · s_j(i)``, the weights computed from the history) sets ``has_interest_weights``
    and gives them; the ``model`` fusion (``recviz.options``) then ranks by them and the interests show them
    as their weights. Without the flag (read with ``getattr(model, "has_interest_weights", False)``) the
    model is fused by recviz's own fusions only."""

    has_interest_weights: bool
    def interest_weights(self, items: Tensor, mask: Tensor) -> Tensor: ...  # [B, K]  rows sum to 1
