"""The algorithms' options: small frozen records built from the config in one place.

`AlgorithmOptions.from_config(cfg)` (called by `tcc.algos.build_algorithm`) is the only code of
the algorithms that reads the root config: the model (`ModelOptions`), the seed and replica
options, and one record per loss (`cfg.alignment`, `cfg.sal`, `cfg.tcn`, `cfg.combined`,
`cfg.classification`). The algorithms and their losses read these records only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ml_collections

from tcc.models.options import ModelOptions


def _fields_of(cls, section: ml_collections.ConfigDict, **extra: Any):
    """`cls` from the keys of `section` that are fields of `cls` (unknown keys ignored)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in section.items() if k in names}, **extra)


@dataclasses.dataclass(frozen=True)
class AlignmentOptions:
    """TCC's cycle-consistency loss (mirrors `cfg.alignment`)."""

    stochastic_matching: bool = False
    loss_type: str = "regression_mse_var"
    similarity_type: str = "l2"
    cycle_length: int = 2
    fraction: float = 1.0
    label_smoothing: float = 0.1
    softmax_temperature: float = 0.1
    normalize_indices: bool = True
    normalize_embeddings: bool = False
    variance_lambda: float = 0.001
    huber_delta: float = 0.1


@dataclasses.dataclass(frozen=True)
class SalOptions:
    """Shuffle-and-Learn's head and sampling (mirrors `cfg.sal`; L2 from `model.l2_reg_weight`)."""

    dropout_rate: float = 0.0
    fc_layers: tuple[tuple[int, bool], ...] = ((128, True), (64, True), (2, False))
    shuffle_ratio: float = 0.75
    num_samples: int = 8
    label_smoothing: float = 0.0
    l2_reg_weight: float = 1e-5


@dataclasses.dataclass(frozen=True)
class TcnOptions:
    """TCN's n-pairs loss (mirrors `cfg.tcn`)."""

    positive_window: int = 5
    reg_lambda: float = 0.002
    negatives: str = "batch"
    normalize_embeddings: bool = False
    temperature: float = 1.0


@dataclasses.dataclass(frozen=True)
class CombinedOptions:
    """The weights of `combined` (mirrors `cfg.combined`)."""

    alignment_loss_weight: float = 1.0
    sal_loss_weight: float = 0.0
    tcn_loss_weight: float = 0.0
    normalize_terms: bool = True


@dataclasses.dataclass(frozen=True)
class ClassificationOptions:
    """The supervised baseline's classifier (mirrors `cfg.classification`)."""

    label_smoothing: float = 0.0
    dropout_rate: float = 0.0
    num_classes: int = 0


@dataclasses.dataclass(frozen=True)
class AlgorithmOptions:
    """Everything an algorithm reads: its model, seed, replica options and loss options."""

    model: ModelOptions = ModelOptions()
    seed: int = 0
    loss_scope: str = "global"  # global | replica (tcc.algos.cross_replica)
    sync_batch_norm: bool = False
    alignment: AlignmentOptions = AlignmentOptions()
    sal: SalOptions = SalOptions()
    tcn: TcnOptions = TcnOptions()
    combined: CombinedOptions = CombinedOptions()
    classification: ClassificationOptions = ClassificationOptions()

    @classmethod
    def from_config(cls, cfg: ml_collections.ConfigDict) -> AlgorithmOptions:
        """The one place where the algorithms' options are read from the root config."""
        sal = cfg.sal
        return cls(
            model=ModelOptions.from_config(cfg),
            seed=int(cfg.seed),
            loss_scope=cfg.get("loss_scope", "global"),
            sync_batch_norm=bool(cfg.get("sync_batch_norm", False)),
            alignment=_fields_of(AlignmentOptions, cfg.alignment),
            sal=SalOptions(
                dropout_rate=float(sal.dropout_rate),
                fc_layers=tuple((int(c), bool(relu)) for c, relu in sal.fc_layers),
                shuffle_ratio=float(sal.shuffle_ratio),
                num_samples=int(sal.num_samples),
                label_smoothing=float(sal.label_smoothing),
                l2_reg_weight=float(cfg.model.l2_reg_weight),
            ),
            tcn=_fields_of(TcnOptions, cfg.tcn),
            combined=_fields_of(CombinedOptions, cfg.combined),
            classification=_fields_of(ClassificationOptions, cfg.classification),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, the inverse of `from_dict` (for `Algorithm.get_config`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlgorithmOptions:
        sal = dict(data["sal"])
        sal["fc_layers"] = tuple(tuple(x) for x in sal["fc_layers"])
        return cls(
            model=ModelOptions.from_dict(data["model"]),
            seed=int(data["seed"]),
            loss_scope=data["loss_scope"],
            sync_batch_norm=bool(data["sync_batch_norm"]),
            alignment=AlignmentOptions(**data["alignment"]),
            sal=SalOptions(**sal),
            tcn=TcnOptions(**data["tcn"]),
            combined=CombinedOptions(**data["combined"]),
            classification=ClassificationOptions(**data["classification"]),
        )
