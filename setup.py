"""Installer for tcc: Temporal Cycle-Consistency Learning in TensorFlow 2 / Keras 3."""

import setuptools

setuptools.setup(
    name="tcc",
    version="0.1.0",
    description=(
        "Temporal Cycle-Consistency Learning (Dwibedi et al., CVPR 2019): self-supervised "
        "per-frame video embeddings, baselines, evaluations and alignment applications."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=["tcc", "tcc.*"]),
    install_requires=[
        "tensorflow>=2.16",
        "tensorflow-datasets>=4.9",
        "importlib_resources>=5",  # used by tensorflow-datasets 4.9.x but not declared by it
        "tensorboard>=2.16",
        "keras>=3.0",
        "absl-py>=1.0",
        "ml-collections>=0.1.1",
        "numpy>=1.23",
        "scipy>=1.9",
        "scikit-learn>=1.2",
        "matplotlib>=3.6",
        "imageio>=2.28",
        "imageio-ffmpeg>=0.4.8",
        "tqdm>=4.60",
    ],
    entry_points={
        # `tcc-train` etc. beside `python -m tcc.train` (tcc/console_scripts.py).
        "console_scripts": [
            "tcc-train = tcc.console_scripts:train",
            "tcc-evaluate = tcc.console_scripts:evaluate",
            "tcc-convert = tcc.console_scripts:convert",
            "tcc-extract-embeddings = tcc.console_scripts:extract_embeddings",
            "tcc-align = tcc.console_scripts:align",
            "tcc-transfer = tcc.console_scripts:transfer",
            "tcc-retrieve = tcc.console_scripts:retrieve",
            "tcc-anomaly = tcc.console_scripts:anomaly",
            "tcc-progress = tcc.console_scripts:progress",
        ],
    },
    extras_require={
        "test": ["pytest>=7", "ruff>=0.4"],
    },
)
