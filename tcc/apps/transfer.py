r"""Transfer per-frame labels and sound from aligned reference videos to a query (paper §6).

  python -m tcc.apps.transfer --logdir=DIR --query=VIDEO --references=V1,V2,... --output_dir=OUT \
      [--audio_from=REF_VIDEO_WITH_AUDIO] [--method=dtw|nn] [--window=N]

Labels: every query frame gets the majority label of its aligned frames in the labelled
references (`tcc.apps.label_transfer.transfer_labels`); written as `<query>_labels.json` (labels,
phase names, and the accuracy when the query has its own labels), `<query>_labels.csv`
(frame, label, phase) and `<query>_labels.png` (the transferred phases as a colour strip, above
it the query's own when it has them, with a legend of the phase names). Sound: with
`--audio_from`, the audio track of that video is cut into the chunks aligned to each query frame
and concatenated (`transfer_audio`): `<query>_audio.wav` with the query's duration,
`<query>_audio.png` (its spectrogram, dashed lines at the query's phase changes) and
`<query>_with_audio.mp4` (the query with that sound) when ffmpeg is available. Videos are given
as in `tcc.apps.align`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

import numpy as np
from absl import flags

from tcc.apps import cli_common as cli

_FLAGS = flags.FlagValues()
cli.define_common_flags(_FLAGS)
flags.DEFINE_string(
    "query", None, "The (unlabelled, silent) video to annotate.", flag_values=_FLAGS
)
flags.DEFINE_list(
    "references", [], "Labelled reference videos (comma separated).", flag_values=_FLAGS
)
flags.DEFINE_string(
    "audio_from", None, "A video file whose sound is transferred to the query.", flag_values=_FLAGS
)
cli.define_alignment_flags(_FLAGS, method="dtw", metric="sqeuclidean")
flags.mark_flag_as_required("query", flag_values=_FLAGS)


def main(fv: flags.FlagValues, overrides: list[str]) -> list[str]:
    """Runs the transfer app with parsed flags; returns the written paths."""
    if not fv.references and not fv.audio_from:
        raise cli.AppError("give --references=V1,V2 (labelled videos) and/or --audio_from=VIDEO")
    sources = cli.video_sources(fv, overrides)
    specs = [fv.query, *fv.references, *([fv.audio_from] if fv.audio_from else [])]
    groups = cli.resolve(sources, specs)
    if len(groups[0]) != 1:
        raise cli.AppError(f"--query={fv.query} names {len(groups[0])} videos; give one video")
    query = groups[0][0]
    refs = [v for g in groups[1 : 1 + len(fv.references)] for v in g]
    out = cli.output_dir(fv.output_dir)
    written = []
    labelled = [r for r in refs if r.has_labels]
    if refs and not labelled:
        raise cli.AppError(
            f"none of the references ({', '.join(r.name for r in refs)}) has frame labels; "
            "give labelled records (frame_labels) as --references"
        )
    if labelled:
        written += _labels(fv, query, labelled, out)
    if fv.audio_from:
        written += _audio(fv, query, groups[-1][0], out)
    return written


def _labels(fv, query: cli.Video, refs: list[cli.Video], out: str) -> list[str]:
    from tcc.apps.figures import plot_label_transfer
    from tcc.apps.label_transfer import transfer_labels

    labels = transfer_labels(
        query.embs,
        [r.embs for r in refs],
        [r.labels for r in refs],
        fv.method,
        fv.window or None,
        fv.metric,
    )
    names = next((r.phase_names for r in refs if r.phase_names), None)
    ref0 = next(r for r in refs if r.phase_names) if names else refs[0]
    phases = [ref0.phase_name(int(lab)) for lab in labels]
    record = {
        "query": query.name,
        "query_source": query.source,
        "references": [r.name for r in refs],
        "method": fv.method,
        "metric": fv.metric,
        "phase_names": names,
        "frame_indices": query.frame_indices.tolist(),
        "labels": labels.tolist(),
        "phases": phases,
    }
    if query.has_labels:
        known = query.labels >= 0
        record["accuracy"] = float(np.mean(labels[known] == query.labels[known]))
    stem = f"{out}/{cli.stem(query.name)}_labels"
    cli.write_json(f"{stem}.json", record)
    cli.write_csv(
        f"{stem}.csv",
        "frame,label,phase",
        (
            f"{i},{lab},{p}"
            for i, lab, p in zip(query.frame_indices.tolist(), labels.tolist(), phases, strict=True)
        ),
    )
    acc = record.get("accuracy")
    if acc is not None:
        print(f"label transfer accuracy against the query's own labels: {acc:.3f}")
    plot_label_transfer(
        labels,
        f"{stem}.png",
        true_labels=query.labels if query.has_labels else None,
        phase_names=names,
        frame_indices=query.frame_indices,
        title=f"{query.name}: phases transferred from {len(refs)} video(s)"
        + (f" (accuracy {acc:.2f})" if acc is not None else ""),
    )
    return [f"{stem}.json", f"{stem}.csv", f"{stem}.png"]


def _audio(fv, query: cli.Video, ref: cli.Video, out: str) -> list[str]:
    from tcc.apps.alignment import align
    from tcc.apps.figures import plot_audio_spectrogram
    from tcc.apps.sound_transfer import mux_audio, transfer_audio, write_wav

    if ref.path is None or not os.path.isfile(ref.path):
        raise cli.AppError(f"--audio_from={fv.audio_from} must be a video file with sound")
    audio, sr = read_audio(ref.path)
    query_fps = query.fps or fv.fps
    if not query_fps:
        raise cli.AppError(
            f"the frame rate of {query.source} is unknown; pass --fps=F "
            "(or --folder_fps for frame folders)"
        )
    mapping = ref.frame_indices[
        align(query.embs, ref.embs, fv.method, fv.window or None, fv.metric).mapping
    ]
    stride = fv.stride
    track = transfer_audio(
        len(query.embs),
        query_fps / stride,
        audio,
        sr,
        mapping // stride,
        ref_fps=(ref.fps or query_fps) / stride,
    )
    stem = f"{out}/{cli.stem(query.name)}"
    write_wav(f"{stem}_audio.wav", track, sr)
    changes = query.frame_indices[1:][np.diff(query.labels) != 0] if query.has_labels else []
    plot_audio_spectrogram(
        track,
        sr,
        f"{stem}_audio.png",
        boundaries=[f / query_fps for f in changes],
        title=f"sound of {ref.name} transferred to {query.name}",
    )
    written = [f"{stem}_audio.wav", f"{stem}_audio.png"]
    with tempfile.TemporaryDirectory(prefix="tcc-audio-") as tmp:
        silent = query.path if (query.path or "").lower().endswith(".mp4") and stride == 1 else None
        if silent is None and query.has_frames:
            silent = _write_silent_mp4(query, f"{tmp}/query.mp4", query_fps / stride)
        if silent and mux_audio(silent, f"{stem}_audio.wav", f"{stem}_with_audio.mp4"):
            written.append(f"{stem}_with_audio.mp4")
    return written


def read_audio(path: str) -> tuple[np.ndarray, int]:
    """Decodes the audio track of a video file with ffmpeg.

    Returns:
      (int16 samples [S] (mono) or [S, C], sample rate in Hz).

    Raises:
      AppError: if the file has no audio track or ffmpeg cannot read it.
    """
    import imageio_ffmpeg
    from scipy.io import wavfile

    with tempfile.TemporaryDirectory(prefix="tcc-audio-") as tmp:
        wav = os.path.join(tmp, "audio.wav")
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-i",
            path,
            "-vn",
            "-acodec",
            "pcm_s16le",
            wav,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not os.path.isfile(wav):
            text = result.stderr.strip().splitlines()
            if not os.path.isfile(wav) and (
                "does not contain any stream" in result.stderr
                or "matches no streams" in result.stderr
            ):
                raise cli.AppError(f"{path} has no audio track; give a video with sound")
            raise cli.AppError(f"{path}: ffmpeg cannot read the audio ({text[-1] if text else ''})")
        sr, data = wavfile.read(wav)
    if len(data) == 0:
        raise cli.AppError(f"{path} has an empty audio track")
    return data, int(sr)


def _write_silent_mp4(video: cli.Video, path: str, fps: float) -> str:
    """Writes the video's frames as an mp4 without sound (for muxing)."""
    import imageio.v2 as iio2

    with iio2.get_writer(
        path,
        format="FFMPEG",
        fps=fps,
        codec="libx264",
        quality=8,
        macro_block_size=16,
        pixelformat="yuv420p",
        ffmpeg_log_level="error",
    ) as writer:
        for frame in video.images():
            writer.append_data(frame)
    return path


def run(argv: list[str] | None = None) -> list[str]:
    """Command-line entry point (`argv` as in `sys.argv`, for calling from Python)."""
    return cli.run_cli(_FLAGS, main, __doc__, argv)


if __name__ == "__main__":
    run()
