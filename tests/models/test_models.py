"""Every registered model through the same checks (shapes, attention, the Captum split, training, round-trip),
on real histories from the shipped MovieLens sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recviz.data import Vocab, build_sequences, load_dataset
from recviz.models import MODEL_NAMES, MultiInterestModel, NoAttentionError, build_model
from recviz.models.checkpoint import load_checkpoint, save_checkpoint
from recviz.models.features import NUM_YEAR_BUCKETS, build_feature_tables, year_bucket
from recviz.models.registry import model_arguments
from recviz.models.scoring import interest_scores, pad_histories
from recviz.train.losses import batch_loss

SAMPLE = "sample_data/ml-latest-small"
MAX_LENGTH = 12


@pytest.fixture(scope="module")
def world():
    """A small slice of the sample: 8 users' histories, the vocabulary of their items, counts, catalogue."""
    dataset = load_dataset(SAMPLE)
    seqs = build_sequences(dataset)
    users = seqs.users()[:8]
    histories = [seqs.items[u][:MAX_LENGTH + 3] for u in users]
    vocab = Vocab(sorted({i for h in histories for i in h}))
    counts = np.zeros(len(vocab), dtype=np.int64)
    for h in histories:
        np.add.at(counts, vocab.encode(h), 1)
    # uneven lengths so padding is exercised: user b keeps 3 + 2b items
    dense = [vocab.encode(h)[: 3 + 2 * b] for b, h in enumerate(histories)]
    items, mask = pad_histories(dense, MAX_LENGTH)  # [B, L]
    targets = torch.as_tensor([vocab.index(h[-1]) for h in histories])  # [B]
    return dataset, vocab, counts, items, mask, targets


def make(name: str, world) -> torch.nn.Module:
    dataset, vocab, counts, *_ = world
    torch.manual_seed(0)
    kwargs = {"num_items": len(vocab), "max_length": MAX_LENGTH}
    args = model_arguments(name)
    if "dim" in args:
        kwargs["dim"] = 16
    if "num_genres" in args:
        tables = build_feature_tables(dataset.catalogue, vocab)
        kwargs.update(num_genres=len(tables.genre_names), num_year_buckets=NUM_YEAR_BUCKETS)
    if "dropout" in args:
        kwargs["dropout"] = 0.0
    model = build_model(name, **kwargs)
    if "num_genres" in args:
        model.history_embedding.features.load_tables(tables)
    if hasattr(model, "fit_counts"):
        model.fit_counts(counts)
    return model


def assert_loss_falls(model, params, items, mask, targets, steps: int = 8) -> None:
    """A few Adam steps on one tiny batch lower the training loss by more than 0.1."""
    opt = torch.optim.Adam(params, lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = batch_loss(model, items, mask, targets, None)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.1, losses


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_contract(name, world, tmp_path):
    dataset, vocab, counts, items, mask, targets = world
    model = make(name, world).eval()
    B, L = items.shape
    K, N = model.num_interests, len(vocab)
    assert isinstance(model, MultiInterestModel)
    assert model.name == name and model.max_length == MAX_LENGTH

    # shapes, and the padding row of the item table is zero
    emb = model.item_embeddings()
    d = emb.shape[1]
    assert emb.shape == (N, d) and torch.all(emb[0] == 0)
    interests = model.interests(items, mask)
    assert interests.shape == (B, K, d) and torch.isfinite(interests).all()
    embedded = model.embed_history(items)
    assert embedded.shape == (B, L, d)
    assert torch.allclose(embedded, emb[items])  # histories use the rows items are scored with

    # interests = interests_from_embedded(embed_history), and embed_history goes through history_embedding
    seen = []
    handle = model.history_embedding.register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        again = model.interests_from_embedded(model.embed_history(items), items, mask)
        hooked = model.interests(items, mask)
        model.item_embeddings()  # the scoring table does not pass through the history hook
    finally:
        handle.remove()
    assert torch.equal(again, interests) and torch.equal(hooked, interests)
    assert len(seen) == 2 and torch.equal(seen[1], embedded)

    # padding does not leak: appending padding columns leaves the interests unchanged
    wide_items = torch.cat([items, torch.zeros(B, 3, dtype=torch.long)], dim=1)  # [B, L+3]
    wide_mask = torch.cat([mask, torch.zeros(B, 3, dtype=torch.bool)], dim=1)
    if L + 3 <= MAX_LENGTH:
        assert torch.allclose(model.interests(wide_items, wide_mask), interests, atol=1e-5)

    # attention: rows sum to 1 over the mask, 0 on padding (or an explicit "no attention")
    if model.has_attention:
        att = model.attention(items, mask)
        assert att.shape == (B, K, L)
        assert torch.allclose(att.sum(-1), torch.ones(B, K), atol=1e-5)
        assert torch.all(att[~mask[:, None, :].expand(B, K, L)] == 0) and torch.all(att >= 0)
    else:
        with pytest.raises(NoAttentionError):
            model.attention(items, mask)

    # config() rebuilds the model; a checkpoint round-trip gives identical scores
    path = save_checkpoint(tmp_path / name, model, vocab, dataset.catalogue, {"command": "test"}, counts)
    ckpt = load_checkpoint(path)
    assert ckpt.name == name and ckpt.record.model.to_dict() == model.config()
    assert ckpt.vocab.raw_ids == vocab.raw_ids and np.array_equal(ckpt.item_counts, counts)
    assert len(ckpt.hash) == 12
    with torch.no_grad():
        before = interest_scores(model.interests(items, mask), model.item_embeddings())  # [B, K, N]
        after = interest_scores(ckpt.model.interests(items, mask), ckpt.model.item_embeddings())
    assert torch.equal(before, after)

    # the training loss decreases on a tiny batch after a few steps
    params = [p for p in model.parameters() if p.requires_grad]
    if name == "popularity":
        assert params == []  # counting is its training
        return
    model.train()
    assert_loss_falls(model, params, items, mask, targets)


def test_popularity_scores_are_log1p_counts(world):
    _, vocab, counts, items, mask, _ = world
    model = make("popularity", world)
    scores = interest_scores(model.interests(items, mask), model.item_embeddings())  # [B, 1, N]
    expected = torch.log1p(torch.as_tensor(counts, dtype=torch.float32))
    assert torch.allclose(scores[:, 0], expected.expand_as(scores[:, 0]))
    top = int(np.argmax(counts))
    assert int(scores[0, 0].argmax()) == top and math.isclose(float(scores[0, 0, 0]), 0.0)


def test_dr_attention_renormalises_the_coupling(world):
    """DR's attention rows are its final coupling coefficients (softmax over interests), renormalised over
    the history: so they are proportional, item by item, to the coefficients before renormalising."""
    *_, items, mask, _ = world
    model = make("comirec-dr", world).eval()
    _, coupling = model._route(model.embed_history(items), mask)  # [B, K, L]
    assert torch.allclose(coupling.sum(1)[mask], torch.ones(int(mask.sum())), atol=1e-5)
    att = model.attention(items, mask)
    assert torch.allclose(att * coupling.sum(-1, keepdim=True), coupling, atol=1e-6)


def test_dr_interests_are_squashed_capsules_times_the_learned_scale(world):
    """DR's interests are its squashed capsules (norm < 1) times exp(log_scale), which starts at √d: so
    their norms stay below the scale, and doubling the scale doubles every interest."""
    *_, items, mask, _ = world
    model = make("comirec-dr", world).eval()
    assert math.isclose(model.log_scale.detach().exp().item(), math.sqrt(model.dim), rel_tol=1e-6)
    with torch.no_grad():
        capsules, _ = model._route(model.embed_history(items), mask)  # [B, K, d]
        interests = model.interests(items, mask)  # [B, K, d]
    assert float(capsules.norm(dim=-1).max()) < 1.0
    assert torch.allclose(interests, capsules * math.sqrt(model.dim), atol=1e-5)
    with torch.no_grad():
        model.log_scale += math.log(2.0)
    assert torch.allclose(model.interests(items, mask), 2 * interests, atol=1e-5)


def test_sasrec_attention_is_last_real_position():
    """The attention row is read at the last real position: a 1-item history attends fully to its item, and
    a 2-item history spreads over its two items and gives padding nothing."""
    torch.manual_seed(0)
    model = build_model("sasrec", num_items=10, dim=8, max_length=5, num_layers=1, dropout=0.0).eval()
    items = torch.tensor([[3, 0, 0], [3, 4, 0]])
    mask = items > 0
    att = model.attention(items, mask)  # [2, 1, 3]
    assert torch.allclose(att[0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert att[1, 0, 2] == 0 and torch.isclose(att[1, 0, :2].sum(), torch.tensor(1.0))


def test_feature_tables_from_the_catalogue(world):
    dataset, vocab, *_ = world
    tables = build_feature_tables(dataset.catalogue, vocab)
    raw = vocab.raw_ids[0]
    item = dataset.catalogue.get(raw)
    row = tables.genres[vocab.index(raw)]
    assert math.isclose(float(row.sum()), 1.0, rel_tol=1e-6)
    assert {tables.genre_names[j] for j in np.flatnonzero(row)} == set(item.genres)
    assert tables.year_buckets[vocab.index(raw)] == year_bucket(item.year)
    assert tables.genres[0].sum() == 0 and tables.year_buckets[0] == 0
    assert [year_bucket(y) for y in (None, 1915, 1929, 1930, 1995, 2019, 2024)] == [1, 2, 2, 3, 9, 11, 12]
    assert NUM_YEAR_BUCKETS == 13


def test_side_features_pull_unseen_items_to_their_genre(world):
    """Two items with identical genres and decade but untrained (zeroed) id embeddings share an embedding."""
    dataset, vocab, *_ = world
    model = make("comirec-sa", world)
    with torch.no_grad():
        model.history_embedding.items.weight.zero_()
    tables = build_feature_tables(dataset.catalogue, vocab)
    key = [(tuple(r), y) for r, y in zip(tables.genres.tolist(), tables.year_buckets.tolist(), strict=True)]
    pairs = [(a, b) for a in range(1, len(key)) for b in range(a + 1, len(key)) if key[a] == key[b]]
    assert pairs, "the slice should hold two items with the same genres and decade"
    a, b = pairs[0]
    emb = model.item_embeddings()
    assert torch.equal(emb[a], emb[b]) and emb[a].abs().sum() > 0


def test_unknown_model_and_setting_are_config_errors():
    from recviz.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        build_model("nope", num_items=5)
    with pytest.raises(ConfigError, match="no setting"):
        build_model("comirec-sa", num_items=5, colour="red")
    with pytest.raises(ConfigError, match="needs setting"):
        build_model("comirec-sa")


# The context options before extraction (issue #15): every combination still honours the contract.
CONTEXT_VARIANTS = [
    ("comirec-sa", {"encoder": "gru"}),
    ("comirec-sa", {"position": "recency", "dropout": 0.3}),
    ("comirec-sa", {"position": "none"}),
    ("comirec-dr", {"encoder": "gru", "position": "recency", "dropout": 0.3}),
    ("comirec-dr", {"position": "absolute"}),
]


@pytest.mark.parametrize(("name", "extra"), CONTEXT_VARIANTS)
def test_context_options_keep_the_contract(name, extra, world, tmp_path):
    dataset, vocab, counts, items, mask, targets = world
    torch.manual_seed(0)
    base = make(name, world).config()
    model = build_model(name, **{**{k: v for k, v in base.items() if k != "name"}, **extra}).eval()
    if model.num_genres:
        model.history_embedding.features.load_tables(build_feature_tables(dataset.catalogue, vocab))
    B, L = items.shape
    interests = model.interests(items, mask)
    assert interests.shape == (B, model.num_interests, model.dim) and torch.isfinite(interests).all()
    assert torch.equal(model.interests_from_embedded(model.embed_history(items), items, mask), interests)
    short_items, short_mask = items[:, : L - 2], mask[:, : L - 2]  # padding appended never leaks
    wide_items = torch.cat([short_items, torch.zeros(B, 2, dtype=torch.long)], dim=1)  # [B, L]
    wide_mask = torch.cat([short_mask, torch.zeros(B, 2, dtype=torch.bool)], dim=1)
    assert torch.allclose(model.interests(wide_items, wide_mask), model.interests(short_items, short_mask),
                          atol=1e-5)
    att = model.attention(items, mask)
    assert torch.allclose(att.sum(-1), torch.ones(B, model.num_interests), atol=1e-5)
    assert torch.all(att[~mask[:, None, :].expand_as(att)] == 0)

    # gradients reach every real history item through embed_history (what Integrated Gradients reads)
    embedded = model.embed_history(items).detach().requires_grad_(True)
    model.interests_from_embedded(embedded, items, mask).sum().backward()
    assert (embedded.grad.abs().sum(-1)[mask] > 0).all()

    # the options are part of config(): a checkpoint rebuilds the same model
    config = model.config()
    assert {k: config[k] for k in extra} == extra
    path = save_checkpoint(tmp_path / name, model, vocab, dataset.catalogue, {"command": "test"}, counts)
    with torch.no_grad():
        assert torch.equal(load_checkpoint(path).model.interests(items, mask), interests)

    # dropout acts in training only; the loss still falls
    model.train()
    if extra.get("dropout"):
        assert not torch.equal(model.interests(items, mask), interests)
    params = [p for p in model.parameters() if p.requires_grad]
    assert_loss_falls(model, params, items, mask, targets)


def test_position_ids_by_hand():
    from recviz.models.layers import position_ids

    mask = torch.tensor([[True, True, True, False], [True, False, False, False]])
    assert position_ids(mask, "absolute").tolist() == [[0, 1, 2, 0], [0, 0, 0, 0]]
    # recency counts back from the most recent real item; padding reads row 0
    assert position_ids(mask, "recency").tolist() == [[2, 1, 0, 0], [0, 0, 0, 0]]
    holes = torch.tensor([[True, False, True, True, False]])  # an edited history: real items are counted
    assert position_ids(holes, "recency").tolist() == [[2, 0, 1, 0, 0]]


def test_the_gru_encoder_reads_the_order(world):
    """Without positions or an encoder self-attentive extraction ignores the order of the history; with the
    GRU encoder reversing the history changes the interests. With recency positions, the same items as the
    most recent ones give the same attention logits whatever came before them."""
    dataset, vocab, *_ = world
    torch.manual_seed(0)
    kwargs = {"num_items": len(vocab), "max_length": MAX_LENGTH, "dim": 16}
    items = torch.tensor([[1, 2, 3, 4]])
    mask = torch.ones_like(items, dtype=torch.bool)
    flipped = items.flip(1)
    plain = build_model("comirec-sa", **kwargs, position="none").eval()
    assert torch.allclose(plain.interests(items, mask), plain.interests(flipped, mask), atol=1e-6)
    gru = build_model("comirec-sa", **kwargs, position="none", encoder="gru").eval()
    assert not torch.allclose(gru.interests(items, mask), gru.interests(flipped, mask), atol=1e-4)
    recency = build_model("comirec-sa", **kwargs, position="recency").eval()
    longer = torch.tensor([[5, 1, 2, 3, 4]])  # one older item in front
    short_att = recency.attention(items, mask)  # [1, K, 4]
    long_att = recency.attention(longer, torch.ones_like(longer, dtype=torch.bool))  # [1, K, 5]
    # the ratio of attention between the last two items depends on their keys only, the same in both
    assert torch.allclose(short_att[0, :, 3] / short_att[0, :, 2], long_att[0, :, 4] / long_att[0, :, 3],
                          atol=1e-5)
    with pytest.raises(Exception, match="encoder must be one of"):
        build_model("comirec-dr", num_items=5, encoder="lstm")
