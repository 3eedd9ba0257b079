"""Past the full-softmax threshold a training step reads only the rows it needs and the item table gets sparse
gradients: the first step must move the weights exactly as the dense AdamW step does (weight decay off)."""

from __future__ import annotations

import copy

import torch

from recviz.config import TrainConfig
from recviz.models.registry import build_model
from recviz.train.loop import SparseDenseAdam, make_optimizer, sparse_item_table
from recviz.train.losses import batch_loss


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    items = torch.randint(1, 300, (8, 10), generator=gen)  # [B, L]
    mask = torch.ones(8, 10, dtype=torch.bool)  # [B, L]
    mask[:3, :4] = False
    items[~mask] = 0
    targets = torch.randint(1, 300, (8,), generator=gen)  # [B]
    negatives = torch.randint(1, 300, (40,), generator=gen)  # [M]
    return items, mask, targets, negatives


def _step(model: torch.nn.Module, full_softmax: bool) -> tuple[torch.Tensor, torch.Tensor, object]:
    """One optimiser step on the fixed batch: the loss, the item table gradient (dense), the optimiser."""
    config = TrainConfig(lr=1e-2, weight_decay=0.0)
    sparse = sparse_item_table(model, full_softmax)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], config, sparse)
    items, mask, targets, negatives = _batch()
    loss = batch_loss(model, items, mask, targets, negatives)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad = model.history_embedding.items.weight.grad  # [N, d], sparse past the threshold
    dense_grad = grad.to_dense() if grad.is_sparse else grad.clone()
    optimizer.step()
    return loss.detach(), dense_grad, optimizer


def test_sparse_table_step_matches_the_dense_step() -> None:
    torch.manual_seed(0)
    dense = build_model("comirec-sa", num_items=300, max_length=10)
    sparse = copy.deepcopy(dense)
    before = dense.history_embedding.items.weight.detach().clone()  # [N, d]
    loss_dense, grad_dense, opt_dense = _step(dense, full_softmax=True)  # the table stays dense
    loss_sparse, grad_sparse, opt_sparse = _step(sparse, full_softmax=False)
    assert isinstance(opt_sparse, SparseDenseAdam) and not isinstance(opt_dense, SparseDenseAdam)
    assert sparse.history_embedding.items.weight.grad.is_sparse
    torch.testing.assert_close(loss_sparse, loss_dense)
    torch.testing.assert_close(grad_sparse, grad_dense, rtol=1e-5, atol=1e-7)
    for (name, a), (_, b) in zip(dense.named_parameters(), sparse.named_parameters(), strict=True):
        if name != "history_embedding.items.weight":  # Adam's first step is sign-like: rounding noise in a
            torch.testing.assert_close(a, b, msg=name)  # ~0 gradient flips it, so the table is checked below
    after = sparse.history_embedding.items.weight.detach()  # [N, d]
    clear = grad_dense.abs() > 1e-4  # [N, d] coordinates whose gradient is not rounding noise
    # SparseAdam adds eps before its bias correction (AdamW after): the steps (lr = 1e-2) agree to 0.5 %
    torch.testing.assert_close(after[clear], dense.history_embedding.items.weight.detach()[clear],
                               rtol=0, atol=5e-5)
    items, _, targets, negatives = _batch()
    used = torch.zeros(len(before), dtype=torch.bool)  # [N]
    used[torch.cat([items.flatten(), targets, negatives])] = True
    assert torch.equal(after[~used], before[~used])  # lazy Adam: rows the batch did not read never move
    assert (after[used] != before[used]).any()


def test_sampled_loss_reads_rows_without_the_whole_table(monkeypatch) -> None:
    model = build_model("comirec-sa", num_items=300, max_length=10)

    def no_table() -> torch.Tensor:
        raise AssertionError("the sampled softmax built the whole [N, d] table")

    monkeypatch.setattr(model, "item_embeddings", no_table)
    items, mask, targets, negatives = _batch()
    assert torch.isfinite(batch_loss(model, items, mask, targets, negatives))
