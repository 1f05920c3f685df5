"""``indexnet train``: train a network on a named dataset (the work: :mod:`indexnet.data.tasks`).

Progress goes to stderr, results to stdout; ``--json`` makes stdout one JSON object.
"""

import json
import math
import sys

import click

from indexnet.api.network import BACKENDS
from indexnet.api.train import METHODS
from indexnet.checks.extras import MissingExtraError, require
from indexnet.data import conv_tasks, tasks
from indexnet.kernels.activations import ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS


def _parse_sizes(ctx, param, value):
    if value is None:
        return None
    try:
        return tasks.check_sizes_text(value)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _defaults_help() -> str:
    lines = []
    for name, task in tasks.TASKS.items():
        sizes = ",".join(map(str, task.sizes))
        lines.append(
            f"{name}: {task.description}; default --sizes {sizes} --hidden {task.hidden} "
            f"--output {task.output} --cost {task.cost} --lam {task.lam:g}"
            + (f" --beta {task.beta:g} --rho {task.rho:g}" if task.beta else "")
            + f", lbfgs {task.iterations['lbfgs']} iterations."
        )
    for name, description in conv_tasks.CONV_TASKS.items():
        lines.append(f"{name}: {description} (--method sgd or lbfgs; --iterations counts steps).")
    return "\n\n".join(lines)


@click.command(name="train", epilog="Datasets and their defaults:\n\n" + _defaults_help())
@click.argument("dataset", type=click.Choice((*tasks.TASKS, *conv_tasks.CONV_TASKS)))
@click.option("--sizes", callback=_parse_sizes, help="Units per layer, e.g. 64,30,10.")
@click.option("--hidden", type=click.Choice(tuple(ACTIVATIONS)), help="Hidden activation.")
@click.option("--output", type=click.Choice(tuple(OUTPUT_ACTIVATIONS)), help="Output activation.")
@click.option("--cost", type=click.Choice(tuple(LOSSES)), help="Cost function.")
@click.option(
    "--method", type=click.Choice(METHODS), help="Training method [default: lbfgs; mnist-cnn: sgd]."
)
@click.option("--iterations", type=click.IntRange(min=1), help="Iterations (epochs for sgd).")
@click.option(
    "--alpha", type=click.FloatRange(min=0, min_open=True), help="Learning rate (gd, sgd)."
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Mini-batch size (sgd).")
@click.option("--lam", type=click.FloatRange(min=0), help="Weight decay lambda.")
@click.option(
    "--beta",
    type=click.FloatRange(min=0),
    help="Sparsity penalty weight beta (0: none; needs sigmoid hidden units).",
)
@click.option(
    "--rho",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    help="Target average activation rho of the hidden units, with --beta.",
)
@click.option("--backend", type=click.Choice(tuple(BACKENDS)), default="loops", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Initialisation seed.")
@click.option(
    "--data-seed", type=int, default=0, show_default=True, help="Seed of the split or sample."
)
@click.option(
    "--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="BLAS and Numba threads while training.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write the trained network here (.npz; indexnet.load reads it).",
)
@click.option(
    "--plot",
    type=click.Path(),
    help="Write PNGs: a directory, or a prefix for PREFIX-loss.png and PREFIX-features.png.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
def train_command(dataset, out, plot, as_json, **options):
    """Train a network on DATASET and report cost, accuracy and time.

    \b
    Examples:
      indexnet train digits --json
      indexnet train xor --method gd --iterations 5000
      indexnet train patches --plot figures/
      indexnet train mnist-cnn --plot figures/ --json
    """
    task = conv_tasks if dataset in conv_tasks.CONV_TASKS else tasks
    try:
        settings = task.settings_for(dataset, **options)
        if plot is not None:
            require("matplotlib", "--plot")
        with click.progressbar(
            length=settings.iterations,
            label=f"{settings.method} on {dataset}",
            file=sys.stderr,
            item_show_func=lambda J: None if J is None else f"J = {J:.4g}",
            show_pos=True,
        ) as bar:
            outcome = task.run(settings, callback=lambda iteration, J: bar.update(1, J))
    except (MissingExtraError, ValueError, TypeError) as error:
        raise click.ClickException(str(error)) from None
    figures = dict(outcome.figures)
    if outcome.result.diverged:
        click.echo(outcome.result.message, err=True)
    try:
        if out is not None:
            figures["out"] = str(outcome.net.save(out))
        if plot is not None:
            figures["plots"] = [str(path) for path in task.write_plots(outcome, plot)]
    except OSError as error:
        raise click.ClickException(f"could not write {error.filename}: {error.strerror}") from None
    if as_json:
        # JSON has no NaN: a cost that never was finite is null.
        finite = {
            k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in figures.items()
        }
        click.echo(json.dumps(finite))
    else:
        for key, value in figures.items():
            click.echo(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
