"""Classical sparse representations scored with the paper's metric: where SANs stand.

Each baseline has a SAN's small interface: ``fit(train, validation)`` chooses
its parameters on the mean validation phi (as Alg. 4 chooses an epoch),
``encode(x)`` gives sparse codes, ``decode(codes)`` the reconstruction
``(N, 1, *spatial)``, ``num_weights`` is W (0 for fixed transforms), and
:func:`sanets.metrics.flithos` scores it unchanged: a kept coefficient costs
its value and its index, dims + 1 numbers, like a spike (PCA scores: one).

>>> import torch
>>> from sanets.baselines import BASELINES
>>> x = torch.randn(12, 1, 64, generator=torch.Generator().manual_seed(0))
>>> wavelet = BASELINES["wavelet"](wavelets=["haar"], modes=["periodization"]).fit(x[:8], x[8:])
>>> wavelet.num_weights
0
"""

from sanets.baselines._base import Baseline, Candidate
from sanets.baselines._csc import ConvolutionalDictionary
from sanets.baselines._dictionary import Dictionary
from sanets.baselines._gabor import GRIDS, GaborMP
from sanets.baselines._pca import PCA
from sanets.baselines._pursuit import DctDstOMP
from sanets.baselines._transform import DCT, MODES, WAVELETS, Wavelet

BASELINES: dict[str, type[Baseline]] = {cls.name: cls for cls in (DCT, Wavelet, DctDstOMP, GaborMP, Dictionary, ConvolutionalDictionary, PCA)}
"""The registry: baseline name -> class."""

__all__ = ["BASELINES", "Baseline", "Candidate", "DCT", "Wavelet", "DctDstOMP", "GaborMP", "GRIDS", "Dictionary", "ConvolutionalDictionary", "PCA",
           "WAVELETS", "MODES"]
