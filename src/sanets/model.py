"""The Sparsely Activated Network (paper Sec. III-B, Eqs. 9-13).

A SAN holds q kernels ``w_i`` (length m in 1D, m x m in 2D). Encoding
correlates the input with each kernel ("same" size, Eq. 10) and passes each
similarity map through a sparse activation (Eq. 11); decoding places each kernel
at its activations and sums the partial reconstructions (Eqs. 12-13).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from sanets._convolution import correlate_same, correlate_same_adjoint
from sanets._model_file import load_model, save_model
from sanets._validation import check_batch, check_dtype, check_int, check_kernel_sizes, check_scales
from sanets.activations._common import channel_argmax
from sanets.activations._registry import spec_of
from sanets.kernel_families import family_of

__all__ = ["SAN", "INITS", "COMPETITIONS"]

INITS = ("normal", "constant")
"""Kernel initialisations: N(0, 0.1) as the paper's text says, or every weight 0.1
as the authors' code ran."""

COMPETITIONS = ("none", "across-kernels")
"""How kernels share the input: each sparsifies its own map (the paper), or at each
position only the best-matching kernel may fire (Sec. VI, future work 2)."""


class SAN(nn.Module):
    """Sparsely Activated Network: q kernels, one sparse activation, tied weights.

    The model computes in the dtype of its kernels: float32 by default, float64
    after ``.double()`` or with ``dtype=torch.float64``. Inputs of any floating
    dtype are converted to it, so codes and reconstructions come back in the
    model's dtype; :meth:`save` and :meth:`load` keep it.

    Parameters
    ----------
    kernel_sizes : sequence of int
        Size m of each kernel (q = len(kernel_sizes)); a kernel has m weights in
        1D and m x m in 2D.
    activation : str
        One of :data:`sanets.activations.ACTIVATIONS`: ``"identity"``, ``"relu"``,
        ``"topk-absolutes"``, ``"extrema-pool-indices"``, ``"extrema"``.
    dims : {1, 2}
        Spatial dimensions of the input: ``(N, 1, L)`` or ``(N, 1, H, W)``.
    init : {"normal", "constant"}
        ``"normal"`` draws every weight from N(0, 0.1), as the paper states
        (Eq. 9), so kernels start distinct. ``"constant"`` sets every weight to
        0.1, which is what the authors' code ran and what their published
        numbers came from. With ``"constant"``, two kernels of the same size
        receive identical gradients and stay identical forever.
    border_tolerance : int
        Extrema only: the default minimum extrema distance is
        ``max(m - border_tolerance, 0)``. The paper uses 3 on PhysioNet and 2 on
        UCI epilepsy and MNIST.
    sparsity : sequence, optional
        Per-kernel override of the activation's sparsity parameter (``k``,
        ``pool_size`` or ``min_distance``); ``None`` entries keep the paper's
        default: top-k ``k = n // m`` (1D) or ``(H // m) * (W // m)`` (2D),
        Extrema-Pool window ``m``, Extrema distance ``m - border_tolerance``.
    seed : int, optional
        Seed of the ``"normal"`` initialisation; ``None`` uses torch's global RNG.
    dtype : torch.dtype or str, optional
        Floating dtype of the kernels (default: torch's default, float32). The
        initial weights are drawn in float32 and converted, so a seed gives the
        same kernels in every dtype up to rounding.
    competition : {"none", "across-kernels"}
        ``"none"``: the paper. ``"across-kernels"`` (Sec. VI, future work 2):
        at each position only the kernel of largest ``|s_i|`` keeps its
        similarity; the activation runs once on that map with the largest
        kernel's parameter (one extrema distance across kernels).
    passes : int
        Residual passes T (Sec. VI): pass t encodes what passes 1..t-1 left,
        ``x - decode(codes)``, with the same kernels; the passes' codes add up
        (decoding is linear), so a position firing twice is one code in CR^-1.
        1 is the paper's SAN.
    kernel_family : str
        One of :data:`sanets.KERNEL_FAMILIES` (Sec. V): how a kernel's learned
        numbers make its weights. ``"free"`` (the paper) learns all m (m x m)
        weights; ``"gaussian-derivatives"`` and ``"piecewise-constant"`` learn a
        few numbers per kernel, and W counts those.
    scales : sequence of float
        Kernels that stretch (Sec. V, "grid sampler"): each kernel is also
        placed resampled to ``round(m * s)`` samples per axis for every scale
        s, one code channel per kernel and scale (kernel-major). With more than
        one scale, a spike also names its scale: it costs dims + 2 numbers in
        CR^-1 (:attr:`numbers_per_code`). ``(1.0,)`` is the paper's SAN.
    unit_norm : bool
        Use each kernel scaled to unit energy (its learned numbers stay free):
        a spike's value is then the projection of the input on the kernel, as
        matching pursuit needs. ``activation="topk-absolutes"`` with
        ``sparsity=[1] * q``, ``competition="across-kernels"``, ``passes=T`` and
        ``unit_norm=True`` is convolutional matching pursuit with T spikes.

    Examples
    --------
    >>> import torch, sanets
    >>> model = sanets.SAN([5], activation="extrema", seed=0)
    >>> x = torch.randn(2, 1, 100)
    >>> codes = model.encode(x)
    >>> codes.shape, model.decode(codes).shape
    (torch.Size([2, 1, 100]), torch.Size([2, 1, 100]))
    """

    def __init__(
        self,
        kernel_sizes: Sequence[int],
        activation: str = "extrema",
        dims: int = 1,
        init: str = "normal",
        border_tolerance: int = 2,
        sparsity: Sequence[Any] | None = None,
        seed: int | None = None,
        dtype: torch.dtype | str | None = None,
        competition: str = "none",
        passes: int = 1,
        kernel_family: str = "free",
        scales: Sequence[float] = (1.0,),
        unit_norm: bool = False,
    ) -> None:
        super().__init__()
        kernel_sizes = check_kernel_sizes(kernel_sizes)
        self._spec = spec_of(activation)
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        border_tolerance = check_int(border_tolerance, "border_tolerance", 0)
        dtype = check_dtype(dtype)
        if competition not in COMPETITIONS:
            raise ValueError(f"competition must be one of {', '.join(COMPETITIONS)}, got {competition!r}")
        self.competition = competition
        self.passes = check_int(passes, "passes", 1)
        self._family, self.kernel_family = family_of(kernel_family), kernel_family
        self.scales = check_scales(scales)
        if not isinstance(unit_norm, bool):
            raise TypeError(f"unit_norm must be True or False, got {unit_norm!r}")
        self.unit_norm = unit_norm
        self.activation = activation
        self.dims = dims
        self.init = init
        self.border_tolerance = border_tolerance
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.set_kernels(kernel_sizes, [self._family.initial(m, dims, init, generator).to(dtype) for m in kernel_sizes])
        self.set_sparsity(sparsity)

    @property
    def num_kernels(self) -> int:
        """q, the number of kernels."""
        return len(self.kernel_sizes)

    @property
    def num_channels(self) -> int:
        """Code channels: q times the number of scales."""
        return len(self.channel_sizes)

    @property
    def num_weights(self) -> int:
        """W of Eq. 2: the learned numbers of the kernels (sum of m, or of m**2 in 2D, for free kernels)."""
        return sum(kernel.numel() for kernel in self.kernels)

    @property
    def numbers_per_code(self) -> int:
        """Numbers a spike costs in CR^-1 (Eq. 2): its position (dims) and value, and its scale if several."""
        return self.dims + 1 + (len(self.scales) > 1)

    def kernel_weights(self) -> list[Tensor]:
        """The kernel each code channel places, in channel order (kernel-major, then scale).

        Returns
        -------
        list of Tensor, each of shape (size,) or (size, size), size = :attr:`channel_sizes`
            Differentiable in :attr:`kernels`.
        """
        sizes = iter(self.channel_sizes)
        weights = [
            self._family.weights(kernel, m, next(sizes), self.dims)
            for kernel, m in zip(self.kernels, self.kernel_sizes)
            for _ in self.scales
        ]
        return [w / w.norm().clamp_min(1e-12) for w in weights] if self.unit_norm else weights

    @property
    def dtype(self) -> torch.dtype:
        """The dtype the model computes in (that of its kernels)."""
        return self.kernels[0].dtype

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this model (without its weights); JSON-able."""
        return {
            "kernel_sizes": self.kernel_sizes,
            "activation": self.activation,
            "dims": self.dims,
            "init": self.init,
            "border_tolerance": self.border_tolerance,
            "sparsity": [list(v) if isinstance(v, tuple) else v for v in self.sparsity],
            "dtype": str(self.dtype).removeprefix("torch."),
            "competition": self.competition,
            "passes": self.passes,
            "kernel_family": self.kernel_family,
            "scales": self.scales,
            "unit_norm": self.unit_norm,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], kernels: Sequence[Any]) -> SAN:
        """The SAN of :meth:`config` with the given learned numbers of each kernel (tensors or nested lists)."""
        model = cls(**config)
        model.set_kernels(model.kernel_sizes, [torch.as_tensor(k, dtype=model.dtype).detach().clone() for k in kernels])
        return model

    def set_kernels(self, kernel_sizes: Sequence[int], numbers: Sequence[Tensor]) -> None:
        """Replace the kernels by ones of sizes m with these learned numbers (weights for "free" kernels, the family's
        parameters otherwise; Parameters are kept as they are), e.g. to add one while training (Sec. VI, future work
        4). Kept kernels keep their sparsity override; added ones take the default."""
        kernel_sizes = check_kernel_sizes(kernel_sizes)
        if len(numbers) != len(kernel_sizes):
            raise ValueError(f"{len(kernel_sizes)} kernel sizes but {len(numbers)} kernels' numbers")
        for i, (m, values) in enumerate(zip(kernel_sizes, numbers)):
            shape = self._family.initial(m, self.dims, "constant", None).shape  # the shape of its kernels' numbers
            if values.shape != shape:
                raise ValueError(f"kernel {i}: numbers of shape {tuple(values.shape)}, config says {tuple(shape)}")
        self.kernels = nn.ParameterList(numbers)
        self.kernel_sizes = kernel_sizes
        self.channel_sizes = [max(round(m * scale), 1) for m in self.kernel_sizes for scale in self.scales]
        self.set_sparsity((getattr(self, "sparsity", []) + [None] * len(numbers))[: len(numbers)])

    def set_sparsity(self, sparsity: Sequence[Any] | None) -> None:
        """Replace the per-kernel sparsity overrides (the constructor's ``sparsity``), e.g. to anneal them."""
        sparsity = [None] * self.num_kernels if sparsity is None else list(sparsity)
        if len(sparsity) != self.num_kernels:
            raise ValueError(f"sparsity must have one entry per kernel ({self.num_kernels}), got {len(sparsity)}")
        for value in sparsity:
            if value is not None:
                self._spec.check(value, self.dims)
        self.sparsity = sparsity
        self._tables: dict[tuple[int, ...], Tensor | None] = {}

    def sparsity_for(self, spatial_shape: Sequence[int]) -> list[Any]:
        """Each code channel's sparsity parameter for inputs of this spatial shape (Sec. III-A).

        Parameters
        ----------
        spatial_shape : sequence of int
            ``(L,)`` or ``(H, W)``.

        Returns
        -------
        list
            One value per code channel (per kernel, unless several scales): ``k``,
            ``pool_size``, ``min_distance`` or ``None``; a kernel's override holds
            at each of its scales, the default follows the stretched size.
        """
        defaults = self._spec.defaults(self.channel_sizes, spatial_shape, self.border_tolerance)
        overrides = [value for value in self.sparsity for _ in self.scales]
        return [default if value is None else value for value, default in zip(overrides, defaults)]

    def similarity(self, x: Tensor) -> Tensor:
        """Similarity maps ``s_i = x * w_i`` (Eq. 10), "same" size.

        Parameters
        ----------
        x : Tensor, shape (N, 1, L) or (N, 1, H, W)

        Returns
        -------
        Tensor, shape (N, C, L) or (N, C, H, W), C = q * len(scales)
        """
        return self._similarity(self._checked(x))

    def encode(self, x: Tensor) -> Tensor:
        """Sparse codes ``a_i = phi(s_i, d_i)`` (Eq. 11).

        Parameters
        ----------
        x : Tensor, shape (N, 1, L) or (N, 1, H, W)

        Returns
        -------
        Tensor, shape (N, C, L) or (N, C, H, W), C = q * len(scales); zero except at the kept positions.
        """
        return self._encode(self._checked(x))

    def decode(self, codes: Tensor) -> Tensor:
        """Reconstruction ``x_hat = sum_i a_i * w_i`` (Eqs. 12-13).

        Each activation places its kernel, scaled by the activation's value, at
        its position: the decoder is the adjoint (transpose) of the encoder's
        correlation, so a kernel reconstructs exactly the pattern it detects.

        Parameters
        ----------
        codes : Tensor, shape (N, C, L) or (N, C, H, W), C = q * len(scales)

        Returns
        -------
        Tensor, shape (N, 1, L) or (N, 1, H, W)
        """
        what = f" for a SAN with {self.num_channels} code channels (q={self.num_kernels} kernels x {len(self.scales)} scales)"
        check_batch(codes, "codes", dims=self.dims, channels=self.num_channels, finite=False, what=what)
        self._check_device(codes, "codes")
        return self._decode(codes.to(self.dtype))

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruct x: ``decode(encode(x))``; shape (N, 1, *spatial) -> same."""
        return self._decode(self._encode(self._checked(x)))

    def _checked(self, x: Tensor) -> Tensor:
        """``x`` checked once and in the model's dtype; the kernels checked too."""
        self._check(x)
        self._check_device(x, "x")
        return x.to(self.dtype)

    def _check(self, x: Tensor, name: str = "x", nonempty: bool = False) -> None:
        """Raise TypeError/ValueError unless ``x`` suits this model; NaN kernels are an error too."""
        check_batch(x, name, dims=self.dims, channels=1, nonempty=nonempty, what=f" for a {self.dims}D SAN")
        too_large = [m for m in self.channel_sizes if any(m > n for n in x.shape[2:])]
        if too_large:
            raise ValueError(f"kernel size {max(too_large)} is larger than the input {name} (spatial size {tuple(x.shape[2:])})")
        self.check_kernels()

    def _check_device(self, x: Tensor, name: str) -> None:
        if x.device != self.kernels[0].device:
            raise ValueError(f"{name} is on {x.device} but the model is on {self.kernels[0].device}; move one of them")

    def check_kernels(self) -> None:
        """Raise ValueError naming the first kernel with NaN or inf weights (a diverged or corrupt model)."""
        for i, kernel in enumerate(self.kernels):
            if not bool(torch.isfinite(kernel).all()):
                raise ValueError(
                    f"kernel {i} (m={self.kernel_sizes[i]}) holds NaN or inf weights: the model diverged or was corrupted"
                )

    def _table(self, spatial_shape: tuple[int, ...]) -> Tensor | None:
        """The activation's per-kernel parameters for this spatial shape, built once and cached."""
        if spatial_shape not in self._tables:
            self._tables[spatial_shape] = self._spec.table(self.sparsity_for(spatial_shape), self.dims)
        return self._tables[spatial_shape]

    def _similarity(self, x: Tensor, weights: list[Tensor] | None = None) -> Tensor:
        weights = self.kernel_weights() if weights is None else weights
        return torch.cat([correlate_same(x, kernel[None]) for kernel in weights], dim=1)

    def _encode(self, x: Tensor) -> Tensor:
        """:meth:`encode` of a checked ``x``: one pass, or the sum of the residual passes' codes."""
        weights = self.kernel_weights()
        codes = self._encode_pass(x, weights)
        for _ in range(self.passes - 1):
            codes = codes + self._encode_pass(x - self._decode(codes, weights), weights)
        return codes

    def _encode_pass(self, x: Tensor, weights: list[Tensor]) -> Tensor:
        """Eq. 11 on the similarity of ``x``, each kernel on its own or competing for each position."""
        similarity, table = self._similarity(x, weights), self._table(tuple(x.shape[2:]))
        if self.competition == "none":
            return self._spec.checked(similarity, table)
        winner = channel_argmax(similarity.abs())
        largest = self.channel_sizes.index(max(self.channel_sizes))
        shared = None if table is None else table[largest : largest + 1]
        spikes = self._spec.checked(similarity.gather(1, winner), shared)
        return torch.zeros_like(similarity).scatter(1, winner, spikes)

    def _decode(self, codes: Tensor, weights: list[Tensor] | None = None) -> Tensor:
        """:meth:`decode` of checked codes."""
        weights = self.kernel_weights() if weights is None else weights
        return sum(correlate_same_adjoint(codes[:, i : i + 1], kernel[None]) for i, kernel in enumerate(weights))

    def save(self, path: str | os.PathLike) -> None:
        """Write each kernel's learned numbers as safetensors, with the config as JSON metadata.

        The file is written to a temporary name and renamed, so an interrupted
        save never leaves a truncated model behind.

        Raises
        ------
        ValueError
            A kernel holds NaN or inf weights (nothing is written).
        """
        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> SAN:
        """Read a model written by :meth:`save`, in the dtype it was saved in.

        Raises
        ------
        ModelFileNotFoundError
            The file does not exist.
        ModelFileError
            The file is truncated, not safetensors, or not a sanets SAN.
        """
        return load_model(cls, path, device)
