"""The paper's numbers (Dwibedi et al., CVPR 2019), shown beside ours in the generated tables.

Per table: {dataset: {row: values in the order of the experiment's columns}}, in the paper's units
(classification accuracy in %, progression R², Kendall's τ). A row may be shorter than the columns
where the paper gives fewer numbers (Table 6 is only partly legible in our copy of the text; see
../shared/REFERENCE.md §"The paper's numbers").
"""

from __future__ import annotations

# Table 3 (Pouring only): classification with all labels, progression, tau.
LOSS_ABLATION = {
    "Pouring": {
        "Mean squared error": (86.16, 0.6532, 0.6093),
        "Cycle-back classification": (88.06, 0.6636, 0.6707),
        "Cycle-back regression (TCC)": (91.82, 0.8030, 0.8516),
    },
}

# Table 4, VGG-M from scratch: classification with 10 / 50 / 100 % of the labels.
FROM_SCRATCH = {
    "Pouring": {
        "Supervised": (62.01, 77.67, 88.41),
        "SaL": (74.50, 80.96, 83.19),
        "TCN": (76.03, 83.27, 84.57),
        "TCC": (86.82, 89.43, 90.21),
    },
    "Penn Action": {
        "Supervised": (50.71, 72.86, 79.98),
        "SaL": (66.15, 71.10, 72.53),
        "TCN": (69.65, 71.41, 72.15),
        "TCC": (74.68, 76.39, 77.30),
    },
}

# Tables 5-6, ImageNet ResNet-50 fine-tuned: classification 0.1 / 0.5 / 1.0, progression, tau.
COMBINED = {
    "Pouring": {
        "SaL": (85.68, 87.84, 88.02),
        "TCN": (89.19, 90.39, 90.35),
        "TCC": (89.23, 91.43, 91.82, 0.8030, 0.8516),
        "TCC+SaL": (89.21, 90.69, 90.75),
        "TCC+TCN": (89.17, 91.23, 91.51, 0.8307, 0.8779),
    },
    "Penn Action": {
        "SaL": (74.87, 78.26, 79.96),
        "TCN": (81.99, 83.67, 84.04),
        "TCC": (81.26, 83.35, 84.45, 0.6726, 0.7353),
        "TCC+SaL": (81.93, 83.46, 84.29),
        "TCC+TCN": (84.27, 84.79, 85.22, 0.6793, 0.7672),
    },
}
