"""Commands for reading the code beside the math: ``show``, ``docs`` and ``check``.

Each is a plain :func:`click.command`; :mod:`indexnet.cli` adds them to the ``indexnet`` group.
Nothing numerical happens here: the pages come from :mod:`indexnet.reading.showcase`, the
gradient check from :mod:`indexnet.api.gradcheck`, and this module only parses options and
formats what they return.
"""

from __future__ import annotations

import json
import shutil
import sys

import click
import numpy as np
from rich.console import Console

from indexnet.api.gradcheck import check_gradient, layer_checks, random_examples
from indexnet.api.network import BACKENDS, Network
from indexnet.kernels.activations import ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from indexnet.reading import showcase

DTYPES = {"float64": np.float64, "float32": np.float32}
EPSILON = {"float64": 1e-4, "float32": 1e-2}
"""Default central-difference step per dtype: UFLDL's 1e-4 in float64; float32 carries about 7
digits, so a step of 1e-4 would leave the difference of two costs mostly rounding error."""
THRESHOLD = {"float64": 1e-7, "float32": 1e-3}
"""Default pass mark for the relative error. A correct float64 gradient gives about 1e-9 with the
default step (UFLDL: "usually ... at least 4 significant digits", often many more)."""


def _terminal_width(width: int | None) -> int:
    return width if width else shutil.get_terminal_size((100, 24)).columns


@click.command("show")
@click.argument("kernel", required=False)
@click.option("--width", type=click.IntRange(40), help="Columns to fit (default: the terminal's).")
@click.option("--raw", is_flag=True, help="Print the sources exactly as written ($...$ kept).")
def show(kernel: str | None, width: int | None, raw: bool) -> None:
    """Print KERNEL's equation, then its loop source beside its NumPy twin.

    Without KERNEL, list every kernel with its equation. The sources are read from the code
    (inspect), so they are always the ones that run.
    """
    width = _terminal_width(width)
    try:
        page = (
            showcase.listing(width)
            if kernel is None
            else showcase.kernel_page(kernel, width, raw=raw)
        )
    except KeyError as error:
        raise click.ClickException(error.args[0]) from error
    out = sys.stdout
    if out.isatty():  # highlighted by rich; a pipe or a file gets plain text
        Console(file=out, width=width).print(page, crop=False)
    else:
        click.echo(showcase.plain(page, width), nl=False)


@click.command("docs")
@click.argument("outdir", type=click.Path(file_okay=False, writable=True))
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; fail if the pages in OUTDIR differ from what would be written.",
)
def docs(outdir: str, check_only: bool) -> None:
    """Write the side-by-side pages (kernels.html, kernels.md) into OUTDIR.

    Every kernel's equation typeset as MathML, the loop kernel and its NumPy twin highlighted,
    in one self-contained HTML file; and a Markdown version with $$ math for a code host.
    Needs the docs extra: pip install 'indexnet[docs]'.
    """
    try:
        if check_only:
            stale = showcase.stale_docs(outdir)
            if stale:
                raise click.ClickException(
                    f"out of date in {outdir}: {', '.join(stale)}; "
                    f"regenerate with: indexnet docs {outdir}"
                )
            click.echo(f"{outdir}: up to date")
            return
        for path in showcase.write_docs(outdir):
            click.echo(f"wrote {path}")
    except ImportError as error:
        raise click.ClickException(str(error)) from error


def _parse_sizes(ctx, param, value: str) -> tuple:
    try:
        sizes = tuple(int(part) for part in value.replace(" ", "").split(","))
    except ValueError as error:
        raise click.BadParameter(
            f"expected comma-separated integers like 4,5,3; got {value!r}"
        ) from error
    return sizes


def _spread(n: int, count: int) -> list:
    """``count`` indices spread evenly over ``range(n)``, first and last included."""
    if count >= n:
        return list(range(n))
    return sorted({round(q * (n - 1) / max(1, count - 1)) for q in range(count)})


def _entries(analytic, numerical, count: int) -> list:
    """A few entries of one parameter array: math indices (from 1) and both gradients."""
    shape = analytic.shape
    rows = []
    for flat in _spread(analytic.size, count):
        index = np.unravel_index(flat, shape)
        rows.append(
            {
                "index": [int(i) + 1 for i in index],
                "analytic": float(analytic[index]),
                "numerical": float(numerical[index]),
            }
        )
    return rows


def _part(analytic, numerical, error: float, count: int) -> dict:
    return {
        "shape": list(analytic.shape),
        "relative_error": error,
        "entries": _entries(analytic, numerical, count),
    }


def _report(net, options, result, layers, count: int) -> dict:
    return {
        "relative_error": result.relative_error,
        "threshold": options["threshold"],
        "passed": bool(result.relative_error <= options["threshold"]),
        "network": {
            "sizes": list(net.sizes),
            "hidden": net.hidden,
            "output": net.output,
            "cost": net.cost,
            "dtype": options["dtype"],
        },
        "m": options["m"],
        "lambda": options["lam"],
        "beta": options["beta"],
        "rho": options["rho"],
        "seed": options["seed"],
        "backend": options["backend"],
        "epsilon": options["epsilon"],
        "n_params": int(net.theta.size),
        "layers": [
            {
                "layer": layer.layer,
                "W": _part(layer.analytic_W, layer.numerical_W, layer.relative_error_W, count),
                "b": _part(layer.analytic_b, layer.numerical_b, layer.relative_error_b, count),
            }
            for layer in layers
        ],
    }


def _label(name: str, layer: int, index: list) -> str:
    return f"{name}^({layer})_{','.join(map(str, index))}"


def _text(report: dict) -> str:
    network = report["network"]
    lines = [
        f"Gradient check of Network({network['sizes']}, hidden={network['hidden']}, "
        f"output={network['output']}, cost={network['cost']}, dtype={network['dtype']})",
        f"on m={report['m']} random examples, lambda={report['lambda']:g}, "
        + (f"beta={report['beta']:g}, rho={report['rho']:g}, " if report["beta"] else "")
        + f"backend={report['backend']}, epsilon={report['epsilon']:g}, seed={report['seed']}.",
        "Analytic: backpropagation. "
        "Numerical: (J(theta + eps e_q) - J(theta - eps e_q)) / (2 eps).",
        "Indices are the math's, from 1: W^(l)_i,j is net.W[l-1][i-1, j-1].",
        "",
    ]
    header = f"    {'entry':<16}{'analytic':>20}{'numerical':>20}{'difference':>13}"
    for layer in report["layers"]:
        for name in ("W", "b"):
            part = layer[name]
            shape = "x".join(map(str, part["shape"]))
            lines.append(
                f"{name}^({layer['layer']})  ({shape})  relative error {part['relative_error']:.2e}"
            )
            lines.append(header)
            for entry in part["entries"]:
                difference = entry["analytic"] - entry["numerical"]
                lines.append(
                    f"    {_label(name, layer['layer'], entry['index']):<16}"
                    f"{entry['analytic']:>20.12e}{entry['numerical']:>20.12e}{difference:>13.2e}"
                )
        lines.append("")
    verdict = "PASS" if report["passed"] else "FAIL"
    lines.append(
        f"relative error over all {report['n_params']} parameters: "
        f"||num - ana|| / ||num + ana|| = {report['relative_error']:.3e}  "
        f"(threshold {report['threshold']:g}): {verdict}"
    )
    return "\n".join(lines)


@click.command("check")
@click.option(
    "--sizes",
    default="4,5,3",
    show_default=True,
    callback=_parse_sizes,
    help="Units per layer, input first: s_1,...,s_nl.",
)
@click.option(
    "--hidden", type=click.Choice(list(ACTIVATIONS)), default="sigmoid", show_default=True
)
@click.option(
    "--output", type=click.Choice(list(OUTPUT_ACTIVATIONS)), default="sigmoid", show_default=True
)
@click.option("--cost", type=click.Choice(list(LOSSES)), default="squared", show_default=True)
@click.option(
    "--lam",
    "--lambda",
    "lam",
    type=float,
    default=1e-4,
    show_default=True,
    help="Weight decay lambda.",
)
@click.option(
    "--beta",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Sparsity penalty weight beta (the sparse autoencoder; needs sigmoid hidden units).",
)
@click.option(
    "--rho",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Target average activation rho of the hidden units, with --beta.",
)
@click.option(
    "-m",
    "m",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Number of random examples.",
)
@click.option("--dtype", type=click.Choice(list(DTYPES)), default="float64", show_default=True)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the initial weights and of the examples.",
)
@click.option("--backend", type=click.Choice(list(BACKENDS)), default="loops", show_default=True)
@click.option(
    "--epsilon",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Central-difference step.  [default: 1e-4 in float64, 1e-2 in float32]",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0),
    default=None,
    help="Largest relative error that passes.  [default: 1e-7 in float64, 1e-3 in float32]",
)
@click.option(
    "--entries",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Entries printed per weight matrix and per bias vector.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def check(
    sizes,
    hidden,
    output,
    cost,
    lam,
    beta,
    rho,
    m,
    dtype,
    seed,
    backend,
    epsilon,
    threshold,
    entries,
    as_json,
) -> None:
    """Gradient checking: backpropagation against central differences, layer by layer.

    Prints, for each layer, a few entries of the analytic and numerical gradients side by side
    (as UFLDL suggests) and the relative error ||num - ana|| / ||num + ana||; exits with status 1
    when the error over all parameters is above the threshold.
    """
    epsilon = EPSILON[dtype] if epsilon is None else epsilon
    threshold = THRESHOLD[dtype] if threshold is None else threshold
    try:
        net = Network(
            sizes, hidden=hidden, output=output, cost=cost, seed=seed, dtype=DTYPES[dtype]
        )
        X, Y = random_examples(net, m, seed)
        result = check_gradient(
            net, X, Y, lam=lam, backend=backend, epsilon=epsilon, beta=beta, rho=rho
        )
    except (ValueError, TypeError) as error:
        raise click.ClickException(str(error)) from error
    options = {
        "dtype": dtype,
        "m": m,
        "lam": lam,
        "beta": beta,
        "rho": rho,
        "seed": seed,
        "backend": backend,
        "epsilon": epsilon,
        "threshold": threshold,
    }
    report = _report(net, options, result, layer_checks(net, result), entries)
    click.echo(json.dumps(report, indent=2) if as_json else _text(report))
    if not report["passed"]:
        raise click.ClickException(
            f"relative error {result.relative_error:.3e} is above the threshold {threshold:g}"
        )
