# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Why the filter is rotated by 180 degrees going back, and why the convolution is "full"
#
# A convolutional layer's forward sum is a *correlation*: output $(r, c)$ reads the input at
# $(r+p, c+q)$ through the filter offset $(p, q)$. One image, one channel, one filter:
#
# $$z_{r,c} = \sum_p \sum_q W_{p,q}\, a_{r+p,c+q} + b,
# \qquad
# \delta_{r,c}^{(l)} = \frac{\partial J}{\partial z_{r,c}^{(l)}}
# = \Big( \sum_p \sum_q W_{p,q}\, \delta_{r-p,c-q}^{(l+1)} \Big) f'\!\left(z_{r,c}^{(l)}\right)$$
#
# In the plain text of the code's comments and printed lines:
#
#     forward:   z_{r,c} = sum_p sum_q W_pq a_{r+p,c+q} + b
#     backward:  delta_{r,c} = (sum_p sum_q W_pq G_{r-p,c-q}) f'(z_{r,c}),   G = delta^(l+1)
#
# Going back, the input $(r, c)$ collects from every output that read it: output
# $(r-p, c-q)$ read it through $W_{p,q}$. The index that was $r+p$ forward is $r-p$ backward.
# Read as a sliding window over $G$, a minus sign in front of $p$ walks the filter backwards:
# the filter rotated by 180 degrees (UFLDL's `rot90(W, 2)`). The outputs $(r-p, c-q)$ that fall
# outside the map do not exist and give no term; padding $G$ with zeros to say so is the "full"
# convolution, and it brings the map back to the input's size.
#
# Below, on one 7x7 image and one 3x3 filter (so a 5x5 output and an upstream error $G$ of the
# same size), with the identity as activation ($f' = 1$): the loop kernel
# `indexnet.loops.conv_delta`, the same sum in a few lines of plain Python, SciPy's correlation
# and convolution, and autodiff (autograd; PyTorch where installed). Then the forward
# direction, where the other rotation, the one in UFLDL's MATLAB exercise, comes from.

# %%
"""Why the filter is rotated by 180 degrees in the backward pass, and why a "full" convolution.

Run: python examples/why_rot90.py [--quick]

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/why_rot90.py. A kernel has no command line: there
INDEXNET_QUICK=1 in its environment means --quick (``%env INDEXNET_QUICK=1`` in a first cell).
"""

import importlib.util
import os
import sys

import autograd  # an independent autodiff, in the test extra: pip install "indexnet[test]"
import autograd.numpy as anp
import numpy as np
from scipy.signal import convolve2d, correlate2d

import indexnet

# --quick, or INDEXNET_QUICK=1: 20 random shapes at the end instead of 200
quick = "--quick" in sys.argv[1:] or os.environ.get("INDEXNET_QUICK") == "1"
rng = np.random.default_rng(0)
a = np.round(rng.uniform(-1, 1, (7, 7)), 2)  # the input map a^(l), 7x7
W = np.round(rng.uniform(-1, 1, (3, 3)), 2)  # the filter W_pq, 3x3
G = np.round(rng.uniform(-1, 1, (5, 5)), 2)  # the upstream error delta^(l+1), 5x5
R, C = G.shape  # the output map: 7 - 3 + 1 = 5 rows and columns


def most(x, y):
    """max |x - y|, the largest difference between two arrays of one shape."""
    assert np.shape(x) == np.shape(y)
    return np.max(np.abs(np.asarray(x) - np.asarray(y)))


def conv_delta(W, G, shape):
    """indexnet.loops.conv_delta for one image, one channel, one filter; identity (f' = 1)."""
    W4, G4 = W.reshape(1, 1, *W.shape), G.reshape(1, 1, *G.shape)
    z = np.zeros((1, 1, *shape))  # with the identity f'(z) = 1: z and a are not read
    delta = np.empty_like(z)
    indexnet.loops.conv_delta(W4, G4, z, z, indexnet.activations.IDENTITY, delta)
    return delta[0, 0]


delta = conv_delta(W, G, a.shape)  # delta^(l), 7x7
print("One 7x7 input map a, one 3x3 filter W, so a 5x5 output z and an upstream error G.")
print("Forward:  z_{r,c} = sum_p sum_q W_pq a_{r+p,c+q} + b")
print("Backward: delta_{r,c} = sum_p sum_q W_pq G_{r-p,c-q}   (identity activation, f' = 1)\n")
print("W =")
print(W)

# %% [markdown]
# ## The index form: $r+p$ forward, $r-p$ backward
#
# Take the input position $(r, c) = (1, 5)$, near the top right corner. Forward, the outputs
# $(i, j)$ that read $a_{1,5}$ are those with $i + p = 1$ and $j + q = 5$ for some offset
# $(p, q)$; solved for the output, $i = r - p$ and $j = c - q$. Backward, the loop runs over the
# offsets and reads $G$ at $(r-p, c-q)$, skipping the ones outside the $5 \times 5$ map:
#
# $$\delta_{1,5} = \sum_{\substack{p, q \\ 0 \le 1-p < 5,\ 0 \le 5-q < 5}}
# W_{p,q}\, G_{1-p,5-q}$$

# %%
r, c = 1, 5
# forward: every (output, offset) pair whose read a_{i+p, j+q} lands on a_{r,c}
read_by = {
    ((i, j), (p, q))
    for i in range(R)
    for j in range(C)
    for p in range(3)
    for q in range(3)
    if (i + p, j + q) == (r, c)
}
print(f"\nInput position (r, c) = ({r}, {c}). Backward, one term per offset (p, q), from output")
print("(r-p, c-q), the output that read a_{r,c} through W_pq going forward:")
total, backward = 0.0, set()
for p in range(3):
    for q in range(3):
        i, j = r - p, c - q  # forward it was r + p; here r - p
        if 0 <= i < R and 0 <= j < C:
            term = W[p, q] * G[i, j]
            total += term
            backward.add(((i, j), (p, q)))
            print(
                f"  p = {p}, q = {q}: output ({i}, {j})   W_{p}{q} * G_{i}{j}"
                f" = {W[p, q]: .2f} * {G[i, j]: .2f} = {term: .4f}"
            )
        else:
            print(f"  p = {p}, q = {q}: output ({i}, {j}) is outside the 5x5 map: no term")
print(f"  the outputs that read a_{r}{c} forward are exactly these: {read_by == backward}")
print(f"  sum of the {len(backward)} terms = {total: .15f}")
print(f"  conv_delta at ({r}, {c})    = {delta[r, c]: .15f}")
print(f"  |difference| = {abs(total - delta[r, c]):.3e}\n")

# terms per input position: how many of the 9 offsets land on an output
counts = np.array(
    [
        [
            sum(0 <= i - p < R and 0 <= j - q < C for p in range(3) for q in range(3))
            for j in range(7)
        ]
        for i in range(7)
    ]
)
print("Terms in delta_{r,c}, for every input position (of 9): fewer at the edges,")
print("where the outputs (r-p, c-q) would lie outside the map:")
print(counts)

# %% [markdown]
# ## The rotated filter and the "full" convolution
#
# Lay the window of $G$ that $\delta_{r,c}$ reads, rows $r-2 \ldots r$ and columns
# $c-2 \ldots c$, in its natural order $u, v = 0, 1, 2$: $G_{r-2+u, c-2+v}$ meets
# $W_{2-u, 2-v}$, the filter rotated by 180 degrees. So
#
# $$\delta = \operatorname{corr}_{\text{valid}}\!\big(\operatorname{pad}(G, 2),\,
# \operatorname{rot90}(W, 2)\big) = \operatorname{conv}_{\text{full}}(G, W)$$
#
# Zero padding by the filter size less one ($3 - 1 = 2$) supplies the missing outputs as zeros
# ("full": a $5 \times 5$ map and a $3 \times 3$ filter give $5 + 3 - 1 = 7$, the input's
# size). A true convolution (`scipy.signal.convolve2d`, MATLAB's `conv2`) flips its second
# argument itself, so `convolve2d(G, W, "full")` is the same sum with `W` passed unrotated.

# %%
padded = np.pad(G, 2)  # p - 1 = 2 rows and columns of zeros on every side
by_correlation = correlate2d(padded, np.rot90(W, 2), mode="valid")
by_convolution = convolve2d(G, W, mode="full")
print("\nrot90(W, 2), the filter rotated by 180 degrees =")
print(np.rot90(W, 2))
print(f"'full' gives a {by_convolution.shape} map, the input's shape ('valid' would give", end=" ")
print(f"{convolve2d(G, W, 'valid').shape}); pad(G, 2) is {padded.shape}.")
print("max |conv_delta - correlate2d(pad(G, 2), rot90(W, 2), 'valid')| =", end=" ")
print(f"{most(delta, by_correlation):.3e}")
print(f"max |conv_delta - convolve2d(G, W, 'full')| = {most(delta, by_convolution):.3e}")
unrotated = correlate2d(padded, W, mode="valid")
print("without the rotation: max |conv_delta - correlate2d(pad(G, 2), W, 'valid')| =", end=" ")
print(f"{most(delta, unrotated):.3f}")

# %% [markdown]
# ## Autodiff agrees, knowing only the forward sum
#
# $\delta^{(l)}$ of the input, for an upstream error $G$, is the gradient of
# $L = \sum_{r,c} G_{r,c}\, z_{r,c}$ with respect to $a$:
# $\partial L / \partial a_{r,c} = \sum_{i,j} G_{i,j}\, \partial z_{i,j} / \partial a_{r,c}$.
# autograd differentiates $z$ written with the forward index $r+p$ only (a slice of $a$ for
# every offset), no rotation and no padding; PyTorch's `conv2d`, a correlation too, the same.


# %%
def L(image):
    """sum_{r,c} G_rc z_rc with z_rc = sum_p sum_q W_pq image_{r+p,c+q}: the forward index."""
    z = sum(W[p, q] * image[p : p + R, q : q + C] for p in range(3) for q in range(3))
    return anp.sum(G * z)


by_autograd = autograd.grad(L)(a)
print(f"\nmax |conv_delta - autograd's dL/da| = {most(delta, by_autograd):.3e}")
if importlib.util.find_spec("torch") is not None:
    import torch

    image = torch.tensor(a[None, None], requires_grad=True)
    z = torch.nn.functional.conv2d(image, torch.tensor(W[None, None]))
    (z * torch.tensor(G[None, None])).sum().backward()
    by_torch = image.grad[0, 0].numpy()
    print(f"max |conv_delta - PyTorch's dL/da (conv2d)| = {most(delta, by_torch):.3e}")
else:
    print("PyTorch is not installed: its check is skipped.")

# %% [markdown]
# ## The forward direction, and UFLDL's other rotation
#
# The kernels compute the correlation, as UFLDL's equations and every deep learning library
# do. A true convolution flips its second argument, so MATLAB's `conv2` with the filter flipped
# first is the same correlation:
#
# $$z = \operatorname{corr}_{\text{valid}}(a, W)
# = \operatorname{conv}_{\text{valid}}\!\big(a, \operatorname{rot90}(W, 2)\big)$$
#
# UFLDL's exercise does exactly that (it flips the filter before `conv2`): the two flips cancel
# and both conventions give the same network. Unflipped, `conv2` would use the filter upside
# down. The filter gradient is the same story:
#
# $$\frac{\partial J}{\partial W_{p,q}} = \sum_{r,c} \delta_{r,c}^{(l+1)}\, a_{r+p,c+q}
# = \operatorname{corr}_{\text{valid}}\!\big(a, \delta^{(l+1)}\big)
# = \operatorname{conv}_{\text{valid}}\!\big(a, \operatorname{rot90}(\delta^{(l+1)}, 2)\big)$$
#
# UFLDL's `conv2(a, rot90(delta, 2), 'valid')`: its `rot90` only undoes `conv2`'s flip.

# %%
z = np.empty((1, 1, R, C))
indexnet.loops.conv_weighted_input(W[None, None], np.zeros(1), a[None, None], z)
z = z[0, 0]  # b = 0
print("\nForward, z = conv_weighted_input(W, b = 0, a):")
print(f"max |z - correlate2d(a, W, 'valid')| = {most(z, correlate2d(a, W, 'valid')):.3e}")
flipped = convolve2d(a, np.rot90(W, 2), mode="valid")  # UFLDL: conv2(im, rot90(W, 2), 'valid')
print(f"max |z - convolve2d(a, rot90(W, 2), 'valid')| = {most(z, flipped):.3e}")
upside_down = convolve2d(a, W, mode="valid")
print("not flipped, a different z: max |z - convolve2d(a, W, 'valid')| =", end=" ")
print(f"{most(z, upside_down):.3f}")

m = 1  # filter_gradient averages over the m images: m dW is the sum
dW = np.empty((1, 1, 3, 3))
indexnet.loops.filter_gradient(a[None, None], G[None, None], W[None, None], 0.0, dW)
dW = m * dW[0, 0]  # lambda = 0
print("\nFilter gradient, m dW = filter_gradient(a, G, W, lambda = 0) times m:")
print(f"max |m dW - correlate2d(a, G, 'valid')| = {most(dW, correlate2d(a, G, 'valid')):.3e}")
ufldl = convolve2d(a, np.rot90(G, 2), mode="valid")  # UFLDL: conv2(a, rot90(delta, 2), 'valid')
print(f"max |m dW - convolve2d(a, rot90(G, 2), 'valid')| = {most(dW, ufldl):.3e}")

# %% [markdown]
# ## Not a coincidence of one case
#
# Random shapes: $m$ images, $D$ input channels, $K$ filters, rectangular maps and filters.
# With several of each, the sums run over $k$ backward and over $d$ forward as well:
#
# $$\delta_{n,d} = \sum_k \operatorname{conv}_{\text{full}}(G_{n,k}, W_{k,d}),
# \qquad
# z_{n,k} = b_k + \sum_d \operatorname{corr}_{\text{valid}}(a_{n,d}, W_{k,d}),
# \qquad
# \frac{\partial J}{\partial W_{k,d}} = \frac{1}{m} \sum_n
# \operatorname{conv}_{\text{valid}}\!\big(a_{n,d}, \operatorname{rot90}(G_{n,k}, 2)\big)$$
#
# and $\delta$ against autograd once more, from the forward index alone.


# %%
def autograd_delta(W4, G4, a4):
    """dL/da for L = sum G z, z_{n,k,r,c} = sum_d sum_p sum_q W_{k,d,p,q} a_{n,d,r+p,c+q}."""
    rows, cols = G4.shape[2:]

    def loss(a4):
        z = sum(
            anp.einsum("kd,ndrc->nkrc", W4[:, :, p, q], a4[:, :, p : p + rows, q : q + cols])
            for p in range(W4.shape[2])
            for q in range(W4.shape[3])
        )
        return anp.sum(G4 * z)

    return autograd.grad(loss)(a4)


def by_scipy(W4, b, a4, G4):
    """The three sums of the equations above, one 2-D map at a time with SciPy."""
    m, D = a4.shape[:2]
    K = W4.shape[0]
    delta4, z4, dW4 = np.zeros(a4.shape), np.zeros(G4.shape), np.zeros(W4.shape)
    for n in range(m):
        for k in range(K):
            z4[n, k] += b[k]
            for d in range(D):
                delta4[n, d] += convolve2d(G4[n, k], W4[k, d], "full")
                z4[n, k] += correlate2d(a4[n, d], W4[k, d], "valid")
                dW4[k, d] += convolve2d(a4[n, d], np.rot90(G4[n, k], 2), "valid") / m
    return delta4, z4, dW4


def by_indexnet(W4, b, a4, G4):
    """conv_delta (identity), conv_weighted_input and filter_gradient (lambda = 0)."""
    delta4, z4, dW4 = np.empty(a4.shape), np.empty(G4.shape), np.empty(W4.shape)
    indexnet.loops.conv_delta(W4, G4, a4, a4, indexnet.activations.IDENTITY, delta4)
    indexnet.loops.conv_weighted_input(W4, b, a4, z4)
    indexnet.loops.filter_gradient(a4, G4, W4, 0.0, dW4)
    return delta4, z4, dW4


cases = 20 if quick else 200
worst = np.zeros(4)
for _ in range(cases):
    m, D, K = rng.integers(1, 4, 3)
    rows, cols = rng.integers(4, 10, 2)
    p_rows, p_cols = rng.integers(1, min(rows, cols) + 1, 2)
    W4 = rng.standard_normal((K, D, p_rows, p_cols))
    b = rng.standard_normal(K)
    a4 = rng.standard_normal((m, D, rows, cols))
    G4 = rng.standard_normal((m, K, rows - p_rows + 1, cols - p_cols + 1))
    (delta4, z4, dW4), (full, valid, ufldl4) = by_indexnet(W4, b, a4, G4), by_scipy(W4, b, a4, G4)
    differences = [most(delta4, full), most(delta4, autograd_delta(W4, G4, a4))]
    differences += [most(z4, valid), most(dW4, ufldl4)]
    worst = np.maximum(worst, differences)
print(f"\nover {cases} random cases (m, D, K from 1 to 3, maps 4 to 9, filters up to the map):")
print(f"  max |conv_delta - sum_k convolve2d(G_k, W_kd, 'full')| = {worst[0]:.3e}")
print(f"  max |conv_delta - autograd's dL/da| = {worst[1]:.3e}")
print(f"  max |conv_weighted_input - b_k - sum_d correlate2d(a_d, W_kd, 'valid')| = {worst[2]:.3e}")
print(f"  max |filter_gradient - mean_n convolve2d(a_d, rot90(G_k, 2), 'valid')| = {worst[3]:.3e}")
