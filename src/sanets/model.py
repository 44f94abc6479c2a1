"""The Sparsely Activated Network (paper Sec. III-B, Eqs. 9-13).

A SAN holds q kernels ``w_i`` (length m in 1D, m x m in 2D). Encoding
correlates the input with each kernel ("same" size, Eq. 10) and passes each
similarity map through a sparse activation (Eq. 11); decoding places each kernel
at its activations and sums the partial reconstructions (Eqs. 12-13).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from sanets import _coding
from sanets._model_file import load_model, save_model
from sanets._validation import check_batch, check_dtype, check_int, check_kernel_sizes, check_scales
from sanets.activations._registry import spec_of
from sanets.kernel_families import family_of

__all__ = ["SAN", "INITS", "COMPETITIONS", "CHANNEL_MODES"]

INITS = ("normal", "constant")
"""Kernel initialisations: N(0, 0.1) as the paper's text says, or every weight 0.1
as the authors' code ran."""

COMPETITIONS = ("none", "across-kernels")
"""How kernels share the input: each sparsifies its own map (the paper), or at each
position only the best-matching kernel may fire (Sec. VI, future work 2)."""

CHANNEL_MODES = ("shared", "separate")
"""How a SAN of several input channels holds its kernels: one set for every channel, or a set per channel."""


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
        weights; the others (``"gaussian-derivatives"``, ``"piecewise-constant"``,
        ``"gabor"``, ``"mixed"``) learn a few numbers per kernel, W counts those.
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
    in_channels : int
        C, channels of the input ``(N, C, L)`` or ``(N, C, H, W)``. Each input
        channel is coded on its own; its codes are the channels ``c * Q`` to
        ``(c + 1) * Q - 1`` of the codes, Q = q * len(scales).
    channels : {"shared", "separate"}
        With C > 1: ``"shared"``, the q kernels code every channel; ``"separate"``,
        each channel has q kernels of its own (W counts all C * q of them).

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
        in_channels: int = 1,
        channels: str = "shared",
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
        self.in_channels = check_int(in_channels, "in_channels", 1)
        if channels not in CHANNEL_MODES:
            raise ValueError(f"channels must be one of {', '.join(CHANNEL_MODES)}, got {channels!r}")
        self.channels = channels
        self.activation = activation
        self.dims, self.init, self.border_tolerance = dims, init, border_tolerance
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        numbers = [self._family.initial(m, dims, init, generator, i).to(dtype) for i, m in enumerate(kernel_sizes) for _ in range(self._groups)]
        self.set_kernels(kernel_sizes, numbers)
        self.set_sparsity(sparsity)

    @property
    def num_kernels(self) -> int:
        """q, the number of kernels (of each input channel, with ``channels="separate"``)."""
        return len(self.kernel_sizes)

    @property
    def _groups(self) -> int:
        """Sets of q kernels: one per input channel with ``channels="separate"``, else one."""
        return self.in_channels if self.channels == "separate" else 1

    @property
    def num_channels(self) -> int:
        """Code channels: C input channels times q kernels times the number of scales."""
        return self.in_channels * len(self.channel_sizes)

    @property
    def num_weights(self) -> int:
        """W of Eq. 2: the learned numbers of the kernels (sum of m, or of ``m**2`` in 2D, for free kernels)."""
        return sum(kernel.numel() for kernel in self.kernels)

    @property
    def numbers_per_code(self) -> int:
        """Numbers a spike costs in CR^-1 (Eq. 2): its position (dims) and value, and its scale if several."""
        return self.dims + 1 + (len(self.scales) > 1)

    def kernel_weights(self) -> list[Tensor]:
        """The kernel each code channel places, in channel order (input channel, kernel, then scale).

        :attr:`kernels` holds, kernel-major, each kernel's numbers for each input
        channel with ``channels="separate"``; with ``"shared"``, the weights of one
        input channel serve all.

        Returns
        -------
        list of Tensor, each of shape (size,) or (size, size), size = :attr:`channel_sizes`
            Q of them, or C * Q with ``channels="separate"``; differentiable in :attr:`kernels`.
        """
        weights = [
            self._family.weights(self.kernels[i * self._groups + group], m, size, self.dims)
            for group in range(self._groups)
            for i, m in enumerate(self.kernel_sizes)
            for size in self.channel_sizes[i * len(self.scales) : (i + 1) * len(self.scales)]
        ]
        return [w / w.norm().clamp_min(1e-12) for w in weights] if self.unit_norm else weights

    @property
    def dtype(self) -> torch.dtype:
        """The dtype the model computes in (that of its kernels)."""
        return self.kernels[0].dtype

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this model (without its weights); JSON-able."""
        names = ("kernel_sizes", "activation", "dims", "init", "border_tolerance", "competition", "passes",
                 "kernel_family", "scales", "unit_norm", "in_channels", "channels")
        return {name: getattr(self, name) for name in names} | {
            "sparsity": [list(v) if isinstance(v, tuple) else v for v in self.sparsity],
            "dtype": str(self.dtype).removeprefix("torch."),
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
        4). With ``channels="separate"``, ``numbers`` holds each size's C kernels in turn. Kept kernels keep their
        sparsity override; added ones take the default."""
        kernel_sizes = check_kernel_sizes(kernel_sizes)
        if len(numbers) != len(kernel_sizes) * self._groups:
            raise ValueError(f"{len(kernel_sizes)} kernel sizes x {self._groups} input channel(s) but {len(numbers)} kernels' numbers")
        for i, values in enumerate(numbers):
            m = kernel_sizes[i // self._groups]
            shape = self._family.initial(m, self.dims, "constant", None, i // self._groups).shape  # the shape of its numbers
            if values.shape != shape:
                raise ValueError(f"kernel {i}: numbers of shape {tuple(values.shape)}, config says {tuple(shape)}")
        self.kernels = nn.ParameterList(numbers)
        self.kernel_sizes = kernel_sizes
        self.channel_sizes = [max(round(m * scale), 1) for m in self.kernel_sizes for scale in self.scales]
        self.set_sparsity((getattr(self, "sparsity", []) + [None] * len(kernel_sizes))[: len(kernel_sizes)])

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
        x : Tensor, shape (N, C, L) or (N, C, H, W)

        Returns
        -------
        Tensor, shape (N, C * Q, L) or (N, C * Q, H, W), Q = q * len(scales)
        """
        return self._per_input_channel(_coding.similarity, self._checked(x), self.kernel_weights())

    def encode(self, x: Tensor) -> Tensor:
        """Sparse codes ``a_i = phi(s_i, d_i)`` (Eq. 11).

        Parameters
        ----------
        x : Tensor, shape (N, C, L) or (N, C, H, W)

        Returns
        -------
        Tensor, shape (N, C * Q, L) or (N, C * Q, H, W), Q = q * len(scales); zero except at the kept positions.
        """
        return self._encode(self._checked(x))

    def decode(self, codes: Tensor) -> Tensor:
        """Reconstruction ``x_hat = sum_i a_i * w_i`` (Eqs. 12-13).

        Each activation places its kernel, scaled by the activation's value, at
        its position: the decoder is the adjoint (transpose) of the encoder's
        correlation, so a kernel reconstructs exactly the pattern it detects.

        Parameters
        ----------
        codes : Tensor, shape (N, C * Q, L) or (N, C * Q, H, W), Q = q * len(scales)

        Returns
        -------
        Tensor, shape (N, C, L) or (N, C, H, W)
        """
        inputs = f"{self.in_channels} input channels x " if self.in_channels > 1 else ""
        what = f" for a SAN with {self.num_channels} code channels ({inputs}q={self.num_kernels} kernels x {len(self.scales)} scales)"
        check_batch(codes, "codes", dims=self.dims, channels=self.num_channels, finite=False, what=what)
        self._check_device(codes, "codes")
        return self._decode(codes.to(self.dtype))

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruct x: ``decode(encode(x))``; shape ``(N, C, *spatial)`` -> same."""
        weights = self.kernel_weights()  # built once: a parametric family's kernels cost a few small ops each
        return self._decode(self._encode(self._checked(x), weights), weights)

    def _checked(self, x: Tensor) -> Tensor:
        """``x`` checked once and in the model's dtype; the kernels checked too."""
        self._check(x)
        self._check_device(x, "x")
        return x.to(self.dtype)

    def _check(self, x: Tensor, name: str = "x", nonempty: bool = False) -> None:
        """Raise TypeError/ValueError unless ``x`` suits this model; NaN kernels are an error too."""
        what = f" for a {self.dims}D SAN" + (f" of {self.in_channels} input channels" if self.in_channels > 1 else "")
        check_batch(x, name, dims=self.dims, channels=self.in_channels, nonempty=nonempty, what=what)
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

    def _per_input_channel(self, function: Callable[..., Tensor], tensor: Tensor, weights: list[Tensor]) -> Tensor:
        """``function(part, weights)`` on each input channel's part of ``tensor`` (N, C * k, *spatial), concatenated;
        shared kernels fold the channels into the batch, one call for all."""
        n, spatial = tensor.shape[0], tensor.shape[2:]
        if self._groups == 1:
            folded = tensor.reshape(n * self.in_channels, tensor.shape[1] // self.in_channels, *spatial)
            out = function(folded, weights)
            return out.reshape(n, self.in_channels * out.shape[1], *spatial)
        q = len(weights) // self._groups
        parts = tensor.chunk(self.in_channels, dim=1)
        return torch.cat([function(part, weights[c * q : (c + 1) * q]) for c, part in enumerate(parts)], dim=1)

    def _encode(self, x: Tensor, weights: list[Tensor] | None = None) -> Tensor:
        """:meth:`encode` of a checked ``x`` (``weights``: :meth:`kernel_weights`, where the caller has them)."""
        encode = partial(_coding.encode, spec=self._spec, table=self._table(tuple(x.shape[2:])),
                         competition=self.competition, channel_sizes=self.channel_sizes, passes=self.passes)
        return self._per_input_channel(encode, x, self.kernel_weights() if weights is None else weights)

    def _decode(self, codes: Tensor, weights: list[Tensor] | None = None) -> Tensor:
        """:meth:`decode` of checked codes (``weights`` as for :meth:`_encode`)."""
        return self._per_input_channel(_coding.decode, codes, self.kernel_weights() if weights is None else weights)

    def save(self, path: str | os.PathLike) -> None:
        """Write the kernels' learned numbers as safetensors with the config as metadata, atomically (a temporary
        name renamed). Raises ValueError, writing nothing, if a kernel holds NaN or inf weights."""
        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> SAN:
        """Read a model written by :meth:`save`, in the dtype it was saved in. Raises ModelFileNotFoundError (no
        such file) or ModelFileError (truncated, not safetensors, not a sanets SAN, or of an unknown version)."""
        return load_model(cls, path, device)
