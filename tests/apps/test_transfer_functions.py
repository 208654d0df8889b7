"""Tests for tcc.apps.label_transfer and tcc.apps.sound_transfer: label / signal / audio transfer,
WAV writing and muxing."""

import subprocess

import imageio.v2 as iio2
import numpy as np
import pytest
from scipy.io import wavfile

from tcc.apps.label_transfer import transfer_labels, transfer_signal
from tcc.apps.sound_transfer import _ffmpeg_exe, mux_audio, transfer_audio, write_wav

PHASE_EDGES = [0.2, 0.45, 0.7, 0.9]  # progress where phases 1..4 begin


def _embed(progress):
    """Handcrafted embedding of action progress p in [0, 1]: [cos 2πp, sin 2πp, p]."""
    p = np.asarray(progress, dtype=np.float64)
    return np.stack([np.cos(2 * np.pi * p), np.sin(2 * np.pi * p), p], axis=1)


def _video(length, power):
    """Embeddings and phase labels of a video whose progress is (t / (length-1))**power."""
    p = np.linspace(0.0, 1.0, length) ** power
    return _embed(p), np.digitize(p, PHASE_EDGES)


@pytest.mark.parametrize("method", ["nn", "dtw"])
def test_label_transfer_to_time_warped_copy_is_near_perfect(method):
    query, truth = _video(60, 1.0)
    ref, ref_labels = _video(80, 1.6)
    labels = transfer_labels(query, [ref], [ref_labels], method=method)
    assert np.mean(labels == truth) >= 0.95


@pytest.mark.parametrize("method", ["nn", "dtw"])
def test_label_transfer_from_several_references_is_near_perfect(method):
    query, truth = _video(70, 1.0)
    refs = [_video(n, power) for n, power in ((50, 0.7), (90, 1.3), (65, 1.8))]
    labels = transfer_labels(query, [r[0] for r in refs], [r[1] for r in refs], method=method)
    assert np.mean(labels == truth) >= 0.95


def test_majority_vote_overrules_one_wrong_reference():
    query, truth = _video(30, 1.0)
    labels = transfer_labels(query, [query] * 3, [truth, np.full(30, 4), truth])
    np.testing.assert_array_equal(labels, truth)


def test_tied_vote_goes_to_the_closer_reference_then_smaller_label():
    query, _ = _video(20, 1.0)
    near, far = query, query + 0.1
    for order in ((near, far), (far, near)):
        lab = [np.full(20, 1) if emb is near else np.full(20, 2) for emb in order]
        np.testing.assert_array_equal(transfer_labels(query, list(order), lab), 1)
    equal = transfer_labels(query, [query, query], [np.full(20, 3), np.full(20, 2)])
    np.testing.assert_array_equal(equal, 2)


def test_unlabelled_reference_frames_do_not_vote():
    query, truth = _video(25, 1.0)
    partial = np.where(np.arange(25) < 10, -1, truth)
    labels = transfer_labels(query, [query, query], [partial, np.full(25, -1)])
    np.testing.assert_array_equal(labels[10:], truth[10:])
    np.testing.assert_array_equal(labels[:10], -1)


def test_label_transfer_rejects_label_length_mismatch():
    query, truth = _video(10, 1.0)
    with pytest.raises(ValueError, match="labels"):
        transfer_labels(query, [query], [truth[:-1]])


def test_signal_transfer_indexes_reference_signal_by_alignment():
    query, _ = _video(40, 1.0)
    ref, _ = _video(55, 1.5)
    poses = np.random.default_rng(0).normal(size=(55, 4, 2))
    out = transfer_signal(query, ref, poses)
    nearest = ((query[:, None] - ref[None]) ** 2).sum(-1).argmin(1)
    assert out.shape == (40, 4, 2)
    np.testing.assert_array_equal(out, poses[nearest])


@pytest.mark.parametrize("channels", [None, 2])
@pytest.mark.parametrize("target_sr", [None, 16000])
def test_transfer_audio_has_query_duration_and_sample_rate(channels, target_sr):
    shape = (24000,) if channels is None else (24000, channels)
    audio = np.random.default_rng(1).uniform(-0.5, 0.5, size=shape)
    mapping = np.random.default_rng(2).integers(0, 30, size=25)
    out = transfer_audio(25, 10.0, audio, 8000, mapping, ref_fps=10.0, target_sr=target_sr)
    sr = target_sr or 8000
    assert out.shape == (int(25 / 10.0 * sr),) + shape[1:]  # 2.5 s at the output rate
    assert out.dtype == np.float32


def test_transfer_audio_without_crossfade_concatenates_aligned_chunks():
    sr, fps, ref_fps = 1000, 8.0, 12.0
    audio = np.random.default_rng(3).normal(size=(1500,))
    mapping = np.array([0, 5, 5, 6, 17, 3, 2, 16, 17])  # 17 reaches past the audio's end
    out = transfer_audio(9, fps, audio, sr, mapping, ref_fps=ref_fps, crossfade_ms=0)
    padded = np.concatenate([audio, np.zeros(1000)])
    expected = []
    for k, j in enumerate(mapping):
        length = round((k + 1) * sr / fps) - round(k * sr / fps)
        start = round(j * sr / ref_fps)
        expected.append(padded[start : start + length])
    np.testing.assert_allclose(out, np.concatenate(expected), atol=1e-6)


def test_transfer_audio_of_identity_mapping_reproduces_the_reference():
    audio = np.sin(np.arange(4000) * 0.05)
    out = transfer_audio(20, 10.0, audio, 2000, np.arange(20))
    np.testing.assert_allclose(out, audio[:4000], atol=1e-6)


def test_crossfade_removes_clicks_at_jumps():
    sr = 8000
    audio = np.sin(2 * np.pi * 437 * np.arange(sr * 2) / sr)  # 43.7 cycles per frame
    mapping = np.array([0, 1, 2, 7, 3, 12, 4, 9, 5, 6])
    hard = transfer_audio(10, 10.0, audio, sr, mapping, crossfade_ms=0)
    soft = transfer_audio(10, 10.0, audio, sr, mapping, crossfade_ms=5)
    assert np.abs(np.diff(hard)).max() > 1.0  # clicks
    assert np.abs(np.diff(soft)).max() < 0.5  # sine slope is 0.35 per sample
    np.testing.assert_allclose(soft[40:800], hard[40:800], atol=1e-6)  # unchanged off the joins


def test_resampled_transfer_keeps_the_pitch():
    sr, target = 8000, 22050
    audio = np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    out = transfer_audio(10, 10.0, audio, sr, np.arange(10), target_sr=target)
    freqs = np.fft.rfftfreq(len(out), 1.0 / target)
    assert abs(freqs[np.abs(np.fft.rfft(out)).argmax()] - 440) < 2


def test_integer_pcm_input_is_scaled_to_unit_range():
    pcm = (np.sin(np.arange(1000) * 0.1) * 32767).astype(np.int16)
    out = transfer_audio(10, 10.0, pcm, 1000, np.arange(10))
    np.testing.assert_allclose(out, pcm / 32767.0, atol=1e-4)


def test_transfer_audio_rejects_mapping_of_wrong_length():
    with pytest.raises(ValueError, match="mapping"):
        transfer_audio(5, 10.0, np.zeros(100), 100, np.arange(4))


def test_write_wav_round_trips_rate_length_and_values(tmp_path):
    audio = np.stack([np.linspace(-1.2, 1.2, 500), np.zeros(500)], axis=1)
    write_wav(tmp_path / "a.wav", audio, 16000)
    sr, data = wavfile.read(tmp_path / "a.wav")
    assert sr == 16000 and data.dtype == np.int16 and data.shape == (500, 2)
    np.testing.assert_array_equal(data[:, 0], np.round(np.clip(audio[:, 0], -1, 1) * 32767))


@pytest.mark.skipif(_ffmpeg_exe() is None, reason="no ffmpeg binary (imageio-ffmpeg) available")
def test_mux_audio_writes_mp4_with_an_audio_stream(tmp_path):
    frames = np.zeros((10, 32, 32, 3), dtype=np.uint8)
    with iio2.get_writer(tmp_path / "v.mp4", fps=10, macro_block_size=16) as writer:
        for frame in frames:
            writer.append_data(frame)
    write_wav(tmp_path / "a.wav", np.sin(np.arange(8000) * 0.3) * 0.5, 8000)
    assert mux_audio(tmp_path / "v.mp4", tmp_path / "a.wav", tmp_path / "out.mp4")
    probe = subprocess.run(
        [_ffmpeg_exe(), "-i", str(tmp_path / "out.mp4")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Audio: aac" in probe.stderr and "Video: h264" in probe.stderr


def test_mux_audio_reports_missing_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        mux_audio(tmp_path / "missing.mp4", tmp_path / "a.wav", tmp_path / "o.mp4")


def test_label_strip_png_has_a_legend_with_the_phase_names(tmp_path):
    from tcc.apps.figures import plot_label_transfer

    labels = np.array([0, 0, 1, 1, 2, 2, -1])
    fig = plot_label_transfer(
        labels,
        tmp_path / "labels.png",
        true_labels=np.array([0, 0, 1, 1, 1, 2, 2]),
        phase_names=["reach", "pour", "done"],
        frame_indices=np.arange(0, 14, 2),
    )
    (legend,) = [c for c in fig.axes[0].get_children() if type(c).__name__ == "Legend"]
    assert [t.get_text() for t in legend.get_texts()] == ["reach", "pour", "done"]
    assert (tmp_path / "labels.png").read_bytes()[:4] == b"\x89PNG"
