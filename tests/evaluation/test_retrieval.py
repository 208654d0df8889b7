"""Tests for tcc.evaluation.retrieval against an explicit per-frame loop with scipy's cdist."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from tcc.evaluation import MissingLabelsError, retrieval_ap


def _videos(seed, num_videos=4, dim=3, num_phases=3, noise=1.0, unlabelled_frac=0.15):
    centres = np.random.default_rng(5).normal(size=(num_phases, dim))
    rng = np.random.default_rng(seed)
    embs, labels = [], []
    for _ in range(num_videos):
        length = int(rng.integers(6, 25))
        lab = np.minimum(np.arange(length) * num_phases // length, num_phases - 1)
        embs.append(centres[lab] + noise * rng.normal(size=(length, dim)))
        labels.append(np.where(rng.random(length) < unlabelled_frac, -1, lab))
    return embs, labels


def _reference(embs, labels, ks, stride=1, distance="sqeuclidean", average="frames"):
    """For every labelled query frame: sort the labelled frames of the other videos."""
    embs = [e[::stride] for e in embs]
    labels = [lab[::stride] for lab in labels]
    out = {}
    for k in ks:
        per_video = []
        for i in range(len(embs)):
            cand_x = np.concatenate([embs[j][labels[j] >= 0] for j in range(len(embs)) if j != i])
            cand_y = np.concatenate([labels[j][labels[j] >= 0] for j in range(len(embs)) if j != i])
            precisions = []
            for t in range(len(embs[i])):
                if labels[i][t] < 0:
                    continue
                order = np.argsort(cdist(embs[i][t : t + 1], cand_x, distance)[0])
                top = order[: min(k, len(order))]
                precisions.append(np.mean(cand_y[top] == labels[i][t]))
            per_video.append(precisions)
        if average == "frames":
            out[k] = np.mean(np.concatenate(per_video))
        else:
            out[k] = np.mean([np.mean(p) for p in per_video if p])
    return out


@pytest.mark.parametrize("distance", ["sqeuclidean", "cosine"])
@pytest.mark.parametrize("average", ["frames", "videos"])
def test_matches_explicit_loop_on_ragged_data(distance, average):
    embs, labels = _videos(0)
    ks = (1, 5, 10, 15)
    ours = retrieval_ap(embs, labels, ks=ks, distance=distance, average=average)
    ref = _reference(embs, labels, ks, distance=distance, average=average)
    assert list(ours) == list(ks)
    for k in ks:
        assert ours[k] == pytest.approx(ref[k], abs=1e-12)
    assert 0.0 < ours[5] < 1.0


def test_stride_subsamples_before_retrieval():
    embs, labels = _videos(1)
    ours = retrieval_ap(embs, labels, ks=(3,), stride=2)
    assert ours[3] == pytest.approx(_reference(embs, labels, (3,), stride=2)[3], abs=1e-12)


def test_k_above_number_of_candidates_uses_all_candidates():
    embs, labels = _videos(2, num_videos=2)
    big = sum(len(lab) for lab in labels) + 10
    assert retrieval_ap(embs, labels, ks=(big,))[big] == pytest.approx(
        _reference(embs, labels, (big,))[big], abs=1e-12
    )


def test_separable_phases_give_ap_one():
    embs, labels = _videos(3, noise=0.01, unlabelled_frac=0.0)
    assert retrieval_ap(embs, labels, ks=(5, 10)) == {5: 1.0, 10: 1.0}


def test_frames_of_the_query_video_are_never_retrieved():
    # Each video holds one phase and sits far from the other: only own-video frames would match.
    embs = [np.zeros((5, 2)), np.full((6, 2), 10.0)]
    labels = [np.zeros(5, dtype=int), np.ones(6, dtype=int)]
    assert retrieval_ap(embs, labels, ks=(3,)) == {3: 0.0}


def test_unlabelled_frames_are_neither_queries_nor_candidates():
    embs, labels = _videos(4)
    moved = [np.where((lab < 0)[:, None], 100.0, e) for e, lab in zip(embs, labels, strict=True)]
    assert retrieval_ap(embs, labels) == retrieval_ap(moved, labels)


@pytest.mark.parametrize("labels", [None, "one_video"])
def test_fewer_than_two_labelled_videos_raise_missing_labels_error(labels):
    embs, real = _videos(5)
    if labels == "one_video":
        labels = [real[0]] + [None] * (len(embs) - 1)
    with pytest.raises(MissingLabelsError, match="at least two videos"):
        retrieval_ap(embs, labels)


@pytest.mark.parametrize(
    "kwargs", [{"ks": (0,)}, {"ks": ()}, {"stride": 0}, {"distance": "l1"}, {"average": "x"}]
)
def test_bad_arguments_raise_with_received_value(kwargs):
    embs, labels = _videos(6)
    with pytest.raises(ValueError, match="Received"):
        retrieval_ap(embs, labels, **kwargs)


def test_blocked_computation_matches_one_block(monkeypatch):
    from tcc.evaluation import retrieval

    embs, labels = _videos(7)
    full = retrieval_ap(embs, labels)
    monkeypatch.setattr(retrieval, "BLOCK_ELEMENTS", 5)
    assert retrieval_ap(embs, labels) == full
