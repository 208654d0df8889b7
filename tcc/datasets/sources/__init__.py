"""Readers of the data sources the converters turn into records.

`own_videos` (a split folder of the own-videos layout and the reader of each entry kind),
`video_io` (video files, frame folders), `feature_io` (per-video feature / keypoint files),
`tfds_builders` / `tfds_source` (the catalog datasets as TensorFlow Datasets).
"""
