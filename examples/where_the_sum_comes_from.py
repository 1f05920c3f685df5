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
# # Where the sum over $j$ in the hidden delta comes from
#
# The chain rule, one path at a time:
#
# $$\delta_i^{(l)} = \frac{\partial J}{\partial z_i^{(l)}}
# = \sum_j \frac{\partial J}{\partial z_j^{(l+1)}} \frac{\partial z_j^{(l+1)}}{\partial z_i^{(l)}}
# = \sum_j \delta_j^{(l+1)} \, W_{ji}^{(l)} f'\!\left(z_i^{(l)}\right)$$
#
# In the plain text of the code's comments and printed lines:
#
#     delta_i^(l) = dJ/dz_i^(l) = sum_j dJ/dz_j^(l+1) * dz_j^(l+1)/dz_i^(l)
#                 = sum_j delta_j^(l+1) * W_ji^(l) f'(z_i^(l))
#
# $z_i^{(l)}$ reaches the cost only through the units $j$ of layer $l+1$ it feeds (through
# $W_{ji}^{(l)}$): one chain-rule term per path, added up. This notebook prints every term for a
# tiny network, checks each factor and the sum by finite differences, and then shows why the
# weight gradient has no such sum:
# $\partial z_k^{(l+1)} / \partial W_{ij}^{(l)} = a_j^{(l)} \delta_{ki}$ (the Kronecker delta),
# so of the sum over $k$ only $k = i$ survives.
#
# One example ($m = 1$), no weight decay: $J = \frac{1}{2} \left\| a^{(3)} - y \right\|^2$. Math
# layers count from 1, code lists from 0: $W^{(2)}$ is `net.W[1]`; $z^{(2)}$ is `trace.z[1]`.

# %%
"""Where the sum over j in the hidden delta comes from: the chain rule, one path at a time.

Run: python examples/where_the_sum_comes_from.py   (tiny already: it takes no --quick)

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/where_the_sum_comes_from.py. Being tiny, it ignores
INDEXNET_QUICK, the other examples' --quick in a notebook.
"""

import numpy as np

import indexnet

EPS = 1e-5
net = indexnet.Network([2, 3, 2], hidden="sigmoid", output="sigmoid", seed=2)
X = np.array([[0.5, -1.0]])
Y = np.array([[1.0, 0.0]])


def trace():
    return net.trace(X, Y)


def central(read, parameter, index):
    """(read() at parameter[index] + EPS  -  read() at - EPS) / (2 EPS); parameter restored."""
    saved = parameter[index]
    parameter[index] = saved + EPS
    plus = read()
    parameter[index] = saved - EPS
    minus = read()
    parameter[index] = saved
    return (plus - minus) / (2 * EPS)


# %% [markdown]
# ## $\delta_i^{(2)}$, term by term
#
# Layer $l = 2$ is hidden, $l + 1 = 3$ the output; for the sigmoid $f'(z) = a (1 - a)$. Since
# $z_i^{(2)} = \sum_j W_{ij}^{(1)} x_j + b_i^{(1)}$, $\partial z_i^{(2)} / \partial b_i^{(1)} = 1$:
# moving $b_i^{(1)}$ moves $z_i^{(2)}$ alone, and a finite difference in $b_i^{(1)}$ measures a
# derivative in $z_i^{(2)}$. Each local factor
# $\partial z_j^{(3)} / \partial z_i^{(2)} = W_{ji}^{(2)} f'(z_i^{(2)})$ and the whole
# $\delta_i^{(2)} = \partial J / \partial z_i^{(2)}$ are checked that way.

# %%
t = trace()
z2, a2, d2, d3 = t.z[1][0], t.a[1][0], t.delta[1][0], t.delta[2][0]
W2 = net.W[1]
print("Network 2-3-2, sigmoid, one example. Layer l = 2 (hidden), l + 1 = 3 (output).\n")
print("delta_i^(2) = sum_j  dJ/dz_j^(3)  *  dz_j^(3)/dz_i^(2)")
print("            = sum_j  delta_j^(3)  *  W_ji^(2) f'(z_i^(2)),   f'(z) = a (1 - a)")
print("z_i^(2) = sum_j W_ij^(1) x_j + b_i^(1), so dz_i^(2)/db_i^(1) = 1: moving b_i^(1) moves")
print("z_i^(2) alone, and a finite difference in b_i^(1) measures a derivative in z_i^(2).\n")
for i in range(3):
    f_prime = a2[i] * (1 - a2[i])
    print(f"unit i = {i + 1} of layer 2:")
    total = 0.0
    for j in range(2):
        # dz_j^(3)/dz_i^(2) = W_ji^(2) f'(z_i^(2)), and by finite differences through b_i^(1)
        local = W2[j, i] * f_prime
        local_fd = central(lambda j=j: trace().z[2][0, j], net.b[0], i)
        term = d3[j] * local
        total += term
        print(
            f"  j = {j + 1}: dJ/dz_{j + 1}^(3) * dz_{j + 1}^(3)/dz_{i + 1}^(2)"
            f" = delta_{j + 1}^(3) * W_{j + 1}{i + 1}^(2) f'(z_{i + 1}^(2))\n"
            f"         = {d3[j]: .9f} * {W2[j, i]: .6f} * {f_prime:.6f} = {term: .12e}\n"
            f"         (dz_{j + 1}^(3)/dz_{i + 1}^(2) = {local: .9f};"
            f" by finite differences {local_fd: .9f})"
        )
    # delta_i^(2) as backpropagation computes it, and dJ/dz_i^(2) by finite differences
    finite = central(lambda: trace().cost, net.b[0], i)
    print(f"  sum of the terms          = {total: .12e}")
    print(f"  delta_{i + 1}^(2) (indexnet)    = {d2[i]: .12e}")
    print(f"  dJ/dz_{i + 1}^(2) (finite diff) = {finite: .12e}\n")

# %% [markdown]
# ## Why the weight gradient has no sum
#
# $W_{ij}^{(1)}$ feeds only unit $i$, so $z_k^{(2)}$ for $k \ne i$ does not move at all:
#
# $$\frac{\partial z_k^{(2)}}{\partial W_{ij}^{(1)}} = a_j^{(1)} \delta_{ki},
# \qquad \delta_{ki} = \begin{cases} 1 & k = i \\ 0 & k \ne i \end{cases}
# \quad\text{(the Kronecker delta, not an error term)}$$
#
# Below, the whole column $\partial z^{(2)} / \partial W_{ij}^{(1)}$ by finite differences.

# %%
print("Why dJ/dW_ij^(1) has no sum: dz_k^(2)/dW_ij^(1) = a_j^(1) delta_ki (Kronecker delta).")
print("W_ij^(1) feeds only unit i, so z_k^(2) for k != i does not move at all.")
print("Finite differences of z^(2) = (z_1^(2), z_2^(2), z_3^(2)) in each W_ij^(1):\n")
a1 = X[0]
zeros = off_unit = 0
for i in range(3):
    for j in range(2):
        column = central(lambda: trace().z[1][0].copy(), net.W[0], (i, j))
        expected = [a1[j] if k == i else 0.0 for k in range(3)]
        zeros += sum(column[k] == 0.0 for k in range(3) if k != i)
        off_unit += 2
        print(
            f"  dz^(2)/dW_{i + 1}{j + 1}^(1) = [{', '.join(f'{v: .6f}' for v in column)}]"
            f"   a_{j + 1}^(1) delta_k{i + 1} = [{', '.join(f'{v: .6f}' for v in expected)}]"
        )
print(f"  entries with k != i that are exactly 0.0: {zeros} of {off_unit}")

# %% [markdown]
# So of the sum over $k$ only $k = i$ survives:
#
# $$\frac{\partial J}{\partial W_{ij}^{(1)}}
# = \sum_k \delta_k^{(2)} \frac{\partial z_k^{(2)}}{\partial W_{ij}^{(1)}}
# = \sum_k \delta_k^{(2)} a_j^{(1)} \delta_{ki} = \delta_i^{(2)} a_j^{(1)}$$

# %%
print("\nSo dJ/dW_ij^(1) = sum_k delta_k^(2) a_j^(1) delta_ki = delta_i^(2) a_j^(1):")
for i in range(3):
    for j in range(2):
        finite = central(lambda: trace().cost, net.W[0], (i, j))
        print(
            f"  dJ/dW_{i + 1}{j + 1}^(1): delta_{i + 1}^(2) a_{j + 1}^(1) = {d2[i] * a1[j]: .12e}"
            f"   indexnet {t.grad_W[0][i, j]: .12e}   finite diff {finite: .12e}"
        )
