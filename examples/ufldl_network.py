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
# # UFLDL's own example network: 3 inputs, 3 hidden units, 1 output, every number printed
#
# The "Multi-Layer Neural Network" page draws this network and writes its forward pass out:
#
# $$\begin{aligned}
# a_1^{(2)} &= f\!\left(W_{11}^{(1)} x_1 + W_{12}^{(1)} x_2 + W_{13}^{(1)} x_3 + b_1^{(1)}\right) \\
# a_2^{(2)} &= f\!\left(W_{21}^{(1)} x_1 + W_{22}^{(1)} x_2 + W_{23}^{(1)} x_3 + b_2^{(1)}\right) \\
# a_3^{(2)} &= f\!\left(W_{31}^{(1)} x_1 + W_{32}^{(1)} x_2 + W_{33}^{(1)} x_3 + b_3^{(1)}\right) \\
# h_{W,b}(x) = a_1^{(3)} &= f\!\left(W_{11}^{(2)} a_1^{(2)} + W_{12}^{(2)} a_2^{(2)}
#   + W_{13}^{(2)} a_3^{(2)} + b_1^{(2)}\right)
# \end{aligned}$$
#
# In the plain text of the code's comments and printed lines:
#
#     a_1^(2) = f(W_11^(1) x_1 + W_12^(1) x_2 + W_13^(1) x_3 + b_1^(1))
#     a_2^(2) = f(W_21^(1) x_1 + W_22^(1) x_2 + W_23^(1) x_3 + b_2^(1))
#     a_3^(2) = f(W_31^(1) x_1 + W_32^(1) x_2 + W_33^(1) x_3 + b_3^(1))
#     h_W,b(x) = a_1^(3) = f(W_11^(2) a_1^(2) + W_12^(2) a_2^(2) + W_13^(2) a_3^(2) + b_1^(2))
#
# Here each $z$, $a$ and $\delta$ is computed twice: once by hand, in plain Python from the
# equation printed beside it, and once by indexnet (`net.trace`), whose value is shown in
# brackets. One example ($m = 1$) and no weight decay, so $J = \frac{1}{2} (h - y)^2$ and each
# gradient is one product. Math layers count from 1; the code's lists from 0 (`net.W[0]` is
# $W^{(1)}$, `trace.z[1]` is $z^{(2)}$).

# %%
"""UFLDL's own example network: 3 inputs, 3 hidden units, 1 output, every number printed.

Run: python examples/ufldl_network.py   (tiny already: it takes no --quick)

A notebook too (jupytext percent cells; the math is in the Markdown cells):
jupytext --to ipynb examples/ufldl_network.py. Being tiny, it ignores INDEXNET_QUICK, the
other examples' --quick in a notebook.
"""

import math

import numpy as np

import indexnet


def f(z):
    return 1 / (1 + math.exp(-z))


def show(name, expansion, by_hand, by_indexnet):
    print(f"{name:<14} = {expansion}")
    print(f"{'':<14} = {by_hand: .12f}   [indexnet: {by_indexnet: .12f}]")


net = indexnet.Network([3, 3, 1], hidden="sigmoid", output="sigmoid", seed=4)
net.b[0][:] = [0.1, -0.2, 0.3]  # UFLDL starts biases at 0; these make the bias terms visible
net.b[1][:] = [0.05]
W1, b1, W2, b2 = net.W[0], net.b[0], net.W[1], net.b[1]
x = [1.0, 0.5, -1.0]
y = 0.8
trace = net.trace(np.array([x]), np.array([[y]]))

# %% [markdown]
# ## Forward
#
# $$z_i^{(2)} = \sum_j W_{ij}^{(1)} x_j + b_i^{(1)}, \qquad
# a_i^{(2)} = f\!\left(z_i^{(2)}\right) = \frac{1}{1 + e^{-z_i^{(2)}}}$$

# %%
print("Layer 1 is the input: a^(1) = x =", x, f"  target y = {y}")
print("\nForward: z_i^(2) = sum_j W_ij^(1) x_j + b_i^(1),  a_i^(2) = f(z_i^(2)) = 1/(1+e^-z)")
z2, a2 = [], []
for i in range(3):
    terms = " + ".join(f"({W1[i, j]:.4f})({x[j]:g})" for j in range(3))
    z2.append(sum(W1[i, j] * x[j] for j in range(3)) + b1[i])
    show(f"z_{i + 1}^(2)", f"{terms} + ({b1[i]:.4f})", z2[i], trace.z[1][0, i])
    a2.append(f(z2[i]))
    show(f"a_{i + 1}^(2)", f"f({z2[i]:.6f})", a2[i], trace.a[1][0, i])

# %% [markdown]
# ## Output and cost
#
# $$z_1^{(3)} = \sum_j W_{1j}^{(2)} a_j^{(2)} + b_1^{(2)}, \qquad
# h_{W,b}(x) = a_1^{(3)} = f\!\left(z_1^{(3)}\right), \qquad
# J = \frac{1}{2} (h - y)^2$$

# %%
print("\nOutput: z_1^(3) = sum_j W_1j^(2) a_j^(2) + b_1^(2),  h = a_1^(3) = f(z_1^(3))")
terms = " + ".join(f"({W2[0, j]:.4f})({a2[j]:.4f})" for j in range(3))
z3 = sum(W2[0, j] * a2[j] for j in range(3)) + b2[0]
show("z_1^(3)", f"{terms} + ({b2[0]:.4f})", z3, trace.z[2][0, 0])
a3 = f(z3)
show("a_1^(3)", f"f({z3:.6f}) = h_W,b(x)", a3, trace.a[2][0, 0])
show("J", f"1/2 (h - y)^2 = 1/2 ({a3:.6f} - {y})^2", 0.5 * (a3 - y) ** 2, trace.cost)

# %% [markdown]
# ## Backward
#
# With $f'(z) = a (1 - a)$ for the sigmoid,
#
# $$\delta_i^{(n_l)} = -\left(y_i - a_i^{(n_l)}\right) f'\!\left(z_i^{(n_l)}\right), \qquad
# \delta_i^{(l)} = \left( \sum_j W_{ji}^{(l)} \delta_j^{(l+1)} \right) f'\!\left(z_i^{(l)}\right)$$
#
# and layer 3 has one unit, so the sum has one term, $j = 1$.

# %%
print("\nBackward, with f'(z) = a (1 - a) for the sigmoid:")
print("delta_i^(nl) = -(y_i - a_i^(nl)) f'(z_i^(nl))")
d3 = -(y - a3) * a3 * (1 - a3)
show("delta_1^(3)", f"-({y} - {a3:.6f}) * {a3:.6f} * (1 - {a3:.6f})", d3, trace.delta[2][0, 0])
print("delta_i^(l) = (sum_j W_ji^(l) delta_j^(l+1)) f'(z_i^(l)); layer 3 has one unit, so j = 1")
d2 = []
for i in range(3):
    d2.append(W2[0, i] * d3 * a2[i] * (1 - a2[i]))
    expansion = f"({W2[0, i]:.4f})({d3:.6f}) * {a2[i]:.6f} * (1 - {a2[i]:.6f})"
    show(f"delta_{i + 1}^(2)", expansion, d2[i], trace.delta[1][0, i])

# %% [markdown]
# ## Gradients ($m = 1$, $\lambda = 0$)
#
# $$\frac{\partial J}{\partial W_{ij}^{(l)}} = a_j^{(l)} \delta_i^{(l+1)}, \qquad
# \frac{\partial J}{\partial b_i^{(l)}} = \delta_i^{(l+1)}$$

# %%
print("\nGradients (m = 1, lambda = 0):")
print("dJ/dW_ij^(l) = a_j^(l) delta_i^(l+1),  dJ/db_i^(l) = delta_i^(l+1)")
for i in range(3):
    for j in range(3):
        name = f"dJ/dW_{i + 1}{j + 1}^(1)"
        show(name, f"x_{j + 1} delta_{i + 1}^(2)", x[j] * d2[i], trace.grad_W[0][i, j])
    show(f"dJ/db_{i + 1}^(1)", f"delta_{i + 1}^(2)", d2[i], trace.grad_b[0][i])
for j in range(3):
    show(f"dJ/dW_1{j + 1}^(2)", f"a_{j + 1}^(2) delta_1^(3)", a2[j] * d3, trace.grad_W[1][0, j])
show("dJ/db_1^(2)", "delta_1^(3)", d3, trace.grad_b[1][0])
