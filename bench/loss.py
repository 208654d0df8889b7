"""Benchmark: vectorised deterministic TCC loss vs. a pairwise Python loop of the same math.

Measures forward + backward time (steady state) and graph-build time (first call: trace, graph
optimisation and one run) of the deterministic ``regression_mse_var`` loss, for
B in {2, 8, 32}, T in {20, 64}, D = 128, for both implementations in the same run (the machine is
shared, so compare ratios). The loop is written here the way the original library wrote it: a
``tf.function`` that unrolls one block of ops per ordered pair of videos.

    python bench/loss.py            # full table (several minutes: the loop's graph at B=32 is big)
    python bench/loss.py --quick    # B in {2, 8}, T = 20: a short check (about half a minute)
    python bench/loss.py --jit      # adds columns for the loss compiled with XLA
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tcc.losses import compute_alignment_loss  # noqa: E402

DIM = 128
TEMPERATURE = 0.1
VARIANCE_LAMBDA = 0.001


def _pair_similarity(embs1: tf.Tensor, embs2: tf.Tensor) -> tf.Tensor:
    """Scaled -squared L2 distance [M, N] between rows of embs1 [M, D] and embs2 [N, D]."""
    norm1 = tf.reduce_sum(tf.square(embs1), axis=1)[:, None]
    norm2 = tf.reduce_sum(tf.square(embs2), axis=1)[None, :]
    dist = tf.maximum(norm1 + norm2 - 2.0 * tf.matmul(embs1, embs2, transpose_b=True), 0.0)
    return -dist / tf.cast(tf.shape(embs1)[1], tf.float32) / TEMPERATURE


def loop_loss(embs: tf.Tensor) -> tf.Tensor:
    """regression_mse_var over all ordered pairs, one unrolled block of ops per pair.

    Args:
        embs: float32 [B, T, D] with a static B.

    Returns:
        Scalar loss (default steps 0..T-1 normalised by seq_len T).
    """
    batch_size, num_steps = embs.shape[0], embs.shape[1]
    steps = tf.range(num_steps, dtype=tf.float32) / num_steps
    logits_list = []
    for i in range(batch_size):
        for j in range(batch_size):
            if i != j:
                alpha = tf.nn.softmax(_pair_similarity(embs[i], embs[j]), axis=1)
                logits_list.append(_pair_similarity(tf.matmul(alpha, embs[j]), embs[i]))
    logits = tf.concat(logits_list, axis=0)  # [P*T, T]
    labels = tf.tile(tf.eye(num_steps), [len(logits_list), 1])
    beta = tf.nn.softmax(logits)
    true_time = tf.reduce_sum(labels * steps, axis=1)
    pred_time = tf.reduce_sum(beta * steps, axis=1)
    variance = tf.reduce_sum(tf.square(steps - pred_time[:, None]) * beta, axis=1)
    log_var = tf.math.log(variance)
    return tf.reduce_mean(
        tf.exp(-log_var) * tf.square(true_time - pred_time) + VARIANCE_LAMBDA * log_var
    )


def vectorised_loss(embs: tf.Tensor) -> tf.Tensor:
    """The package's deterministic regression_mse_var loss on embs [B, T, D]."""
    return compute_alignment_loss(
        embs,
        loss_type="regression_mse_var",
        temperature=TEMPERATURE,
        variance_lambda=VARIANCE_LAMBDA,
    )


def _train_step_fn(loss_fn, jit: bool = False):
    """A fresh tf.function computing the loss and its gradient w.r.t. the embeddings."""

    def step(embs):
        with tf.GradientTape() as tape:
            tape.watch(embs)
            loss = loss_fn(embs)
        return loss, tf.convert_to_tensor(tape.gradient(loss, embs))

    return tf.function(step, jit_compile=jit)


def _run(step, embs) -> float:
    """Seconds for one call, including fetching the results."""
    start = time.perf_counter()
    _ = [t.numpy() for t in step(embs)]
    return time.perf_counter() - start


def _build(step, embs) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads of this process) of the first call."""
    cpu_start = time.process_time()
    wall = _run(step, embs)
    return wall, time.process_time() - cpu_start


def time_implementations(steps: dict, embs: tf.Tensor, repeats: int) -> dict:
    """Build time and median steady-state time of each step function, measured interleaved.

    Build = the first call (tracing, graph optimisation or XLA compilation, one run), in wall-clock
    and in CPU seconds (the CPU time does not grow when other processes load the shared machine).
    Steady-state calls alternate between the implementations so that such load affects all of them
    alike.

    Returns:
        {name: ((build wall seconds, build CPU seconds), median seconds per call)}.
    """
    builds = {name: _build(step, embs) for name, step in steps.items()}
    for step in steps.values():
        _run(step, embs)
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(_run(step, embs))
    return {name: (builds[name], float(np.median(times[name]))) for name in steps}


def useful_gflop(batch_size: int, num_steps: int) -> float:
    """Matmul GFLOP of the pairwise definition, forward + backward.

    Forward: 3 products of 2 T^2 D flops for each of the B (B - 1) pairs; backward about twice
    that. The same count is used for both implementations, so GFLOP/s compare like speeds.
    """
    return 3 * 3 * 2 * batch_size * (batch_size - 1) * num_steps**2 * DIM / 1e9


def run(configs: list[tuple[int, int]], repeats: int, jit: bool) -> None:
    """Times both implementations on every (B, T) and prints a markdown table."""
    header = (
        "| B | T | loop ms | vectorised ms | speed-up | loop build s (CPU s) "
        "| vectorised build s (CPU s) | loop GFLOP/s | vectorised GFLOP/s |"
    )
    if jit:
        header += " XLA ms | XLA build s (CPU s) |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    rng = np.random.default_rng(0)
    for batch_size, num_steps in configs:
        embs = tf.constant(rng.standard_normal((batch_size, num_steps, DIM)), tf.float32)
        steps = {"vectorised": _train_step_fn(vectorised_loss)}
        if jit:
            steps["xla"] = _train_step_fn(vectorised_loss, jit=True)
        steps["loop"] = _train_step_fn(loop_loss)  # last: its big graph is built after ours
        result = time_implementations(steps, embs, repeats)
        (loop_build, loop_time), (vec_build, vec_time) = result["loop"], result["vectorised"]
        gflop = useful_gflop(batch_size, num_steps)
        line = (
            f"| {batch_size} | {num_steps} | {1e3 * loop_time:.2f} | {1e3 * vec_time:.2f} "
            f"| {loop_time / vec_time:.1f}x | {loop_build[0]:.2f} ({loop_build[1]:.2f}) "
            f"| {vec_build[0]:.2f} ({vec_build[1]:.2f}) "
            f"| {gflop / loop_time:.1f} | {gflop / vec_time:.1f} |"
        )
        if jit:
            xla_build, xla_time = result["xla"]
            line += f" {1e3 * xla_time:.2f} | {xla_build[0]:.2f} ({xla_build[1]:.2f}) |"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B in {2, 8}, T=20, 20 repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per function")
    parser.add_argument("--jit", action="store_true", help="also time the loss under XLA")
    args = parser.parse_args()
    configs = [(2, 20), (8, 20)] if args.quick else [(b, t) for b in (2, 8, 32) for t in (20, 64)]
    repeats = args.repeats or (20 if args.quick else 30)
    print(
        f"TF {tf.__version__}, {os.cpu_count()} CPUs, D={DIM}, deterministic regression_mse_var, "
        f"forward+backward, median of {repeats} interleaved calls\n"
    )
    _train_step_fn(lambda e: tf.reduce_sum(e))(tf.ones([2, 2, 2]))  # TensorFlow start-up
    run(configs, repeats, args.jit)


if __name__ == "__main__":
    main()
