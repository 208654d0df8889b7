"""Plain NumPy (float64) implementations of the TCC losses, written from the formulas.

Deliberately naive: Python loops over pairs, frames and cycles, direct squared differences (no
norm expansion, no centring, no clamping), so that they share no code or trick with the
vectorised TensorFlow implementation they check.
"""

from __future__ import annotations

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x))
    return e / e.sum()


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - np.max(x)
    return shifted - np.log(np.exp(shifted).sum())


def similarity(query: np.ndarray, keys: np.ndarray, similarity_type: str, temperature: float):
    """Similarity of one query [D] with every key [N, D], divided by D and the temperature."""
    if similarity_type == "l2":
        values = -np.sum((keys - query[None, :]) ** 2, axis=1)
    else:
        values = keys @ query
    return values / query.shape[0] / temperature


def row_loss(logits, label, steps, loss_type, label_smoothing, variance_lambda, huber_delta):
    """Loss of one cycle: logits [T] over the start video's frames, label int, steps [T]."""
    num_steps = logits.shape[0]
    if loss_type == "classification":
        target = np.full(num_steps, label_smoothing / num_steps)
        target[label] += 1.0 - label_smoothing
        return -np.sum(target * log_softmax(logits))
    beta = softmax(logits)
    mu = np.sum(beta * steps)
    error = steps[label] - mu
    if loss_type == "regression_mse":
        return error**2
    if loss_type == "regression_mse_var":
        variance = np.sum(beta * (steps - mu) ** 2)
        return error**2 / variance + variance_lambda * np.log(variance)
    if abs(error) <= huber_delta:
        return 0.5 * error**2
    return huber_delta * abs(error) - 0.5 * huber_delta**2


def prepare(embs, steps, seq_lens, normalize_embeddings, normalize_indices):
    """Float64 embeddings and the regressed step values [B, T]."""
    embs = np.asarray(embs, np.float64)
    num_videos, num_steps, _ = embs.shape
    if normalize_embeddings:
        embs = embs / np.linalg.norm(embs, axis=-1, keepdims=True)
    steps = np.tile(np.arange(num_steps), (num_videos, 1)) if steps is None else steps
    steps = np.asarray(steps, np.float64)
    if normalize_indices:
        seq_lens = np.full(num_videos, num_steps) if seq_lens is None else seq_lens
        steps = steps / np.asarray(seq_lens, np.float64)[:, None]
    return embs, steps


def deterministic_rows(
    embs,
    steps=None,
    seq_lens=None,
    normalize_embeddings=False,
    loss_type="classification",
    similarity_type="l2",
    temperature=0.1,
    label_smoothing=0.1,
    variance_lambda=0.001,
    huber_delta=0.1,
    normalize_indices=True,
):
    """Per-cycle losses of every ordered pair i != j and start frame t, as a list."""
    embs, values = prepare(embs, steps, seq_lens, normalize_embeddings, normalize_indices)
    num_videos, num_steps, _ = embs.shape
    rows = []
    for i in range(num_videos):
        for j in range(num_videos):
            if i == j:
                continue
            for t in range(num_steps):
                alpha = softmax(similarity(embs[i, t], embs[j], similarity_type, temperature))
                soft_nn = alpha @ embs[j]
                logits = similarity(soft_nn, embs[i], similarity_type, temperature)
                rows.append(
                    row_loss(
                        logits,
                        t,
                        values[i],
                        loss_type,
                        label_smoothing,
                        variance_lambda,
                        huber_delta,
                    )
                )
    return rows


def deterministic_loss(embs, **kwargs) -> float:
    """The deterministic TCC loss: mean over all pairs i != j and start frames."""
    return float(np.mean(deterministic_rows(embs, **kwargs)))


def stochastic_loss(
    embs,
    cycles,
    start_frames,
    steps=None,
    seq_lens=None,
    normalize_embeddings=False,
    loss_type="classification",
    similarity_type="l2",
    temperature=0.1,
    label_smoothing=0.1,
    variance_lambda=0.001,
    huber_delta=0.1,
    normalize_indices=True,
) -> float:
    """The stochastic TCC loss for given cycles [C, L] and start frames [C]."""
    embs, values = prepare(embs, steps, seq_lens, normalize_embeddings, normalize_indices)
    losses = []
    for cycle, start in zip(np.asarray(cycles), np.asarray(start_frames), strict=True):
        query = embs[cycle[0], start]
        length = len(cycle)
        for hop in range(1, length + 1):
            candidates = embs[cycle[hop % length]]
            logits = similarity(query, candidates, similarity_type, temperature)
            if hop < length:
                query = softmax(logits) @ candidates
        losses.append(
            row_loss(
                logits,
                start,
                values[cycle[0]],
                loss_type,
                label_smoothing,
                variance_lambda,
                huber_delta,
            )
        )
    return float(np.mean(losses))
