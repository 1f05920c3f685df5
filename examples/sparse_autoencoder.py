r"""UFLDL's sparse autoencoder exercise: a [64, 25, 64] network learns edges from image patches.

The cost is the autoencoder's reconstruction error, weight decay, and the sparsity penalty

    J_sparse(W, b) = J(W, b) + beta * sum_j KL(rho || rho_hat_j),
    rho_hat_j = (1/m) sum_k a_j^(2)(x^(k)),

whose gradient adds one term to the hidden error (UFLDL, "Autoencoders and Sparsity"):

    delta_i^(2) = (sum_j W_ji^(2) delta_j^(3)
                   + beta (-rho / rho_hat_i + (1 - rho) / (1 - rho_hat_i))) * f'(z_i^(2)).

Run:  python examples/sparse_autoencoder.py [--patches 10000] [--iterations 400]
(needs scikit-learn for the sample images: pip install 'indexnet[data]').
"""

import argparse
import time

import numpy as np

import indexnet
from indexnet import datasets, display

LAMBDA, BETA, RHO = 1e-4, 3.0, 0.01  # UFLDL's settings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--backend", default="loops")
    parser.add_argument("--out", default="sparse_autoencoder_features.png")
    args = parser.parse_args(argv)

    X = datasets.patches(args.patches)
    net = indexnet.Network([64, 25, 64], seed=0)

    # UFLDL checks the gradient before training: the sparsity term included.
    small = indexnet.Network([64, 5, 64], seed=0)
    check = indexnet.check_gradient(small, X[:20], X[:20], lam=LAMBDA, beta=BETA, rho=RHO)
    print(f"gradient check on [64, 5, 64], 20 patches: relative error {check.relative_error:.2e}")

    # rho_hat_j = (1/m) sum_k a_j^(2)(x^(k)), before training
    rho_hat = net.trace(X, X).a[1].mean(axis=0)
    J0, _ = net.cost_and_gradient(X, X, lam=LAMBDA, beta=BETA, rho=RHO, backend=args.backend)
    print(f"before: J_sparse = {J0:.4f}, mean rho_hat = {rho_hat.mean():.3f} (target rho = {RHO})")

    start = time.perf_counter()
    result = indexnet.lbfgs(
        net, X, X, lam=LAMBDA, beta=BETA, rho=RHO, iterations=args.iterations, backend=args.backend
    )
    seconds = time.perf_counter() - start
    rho_hat = net.trace(X, X).a[1].mean(axis=0)
    print(
        f"after {result.iterations} L-BFGS iterations ({args.backend}, {seconds:.1f} s): "
        f"J_sparse = {result.final_cost:.4f}, mean rho_hat = {rho_hat.mean():.3f}"
    )
    reconstruction = np.mean((net.predict(X) - X) ** 2)
    print(f"mean squared reconstruction error per pixel: {reconstruction:.5f}")

    # Row i of W^(1) is the input that excites hidden unit i most: edges, if it worked.
    path = display.save_image(display.display_network(net.W[0]), args.out)
    print(f"learned features W^(1), one 8x8 tile per hidden unit: {path}")


if __name__ == "__main__":
    main()
