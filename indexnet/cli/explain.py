"""``indexnet explain``: one pass of backpropagation with every number, equation and kernel line.

A plain :func:`click.command` that :mod:`indexnet.cli` adds to the group. The pages come from
:mod:`indexnet.reading.explain` (numbers from ``Network.trace``) and the checks from
:mod:`indexnet.reading.symbolic`; this module only parses options and prints.
"""

from __future__ import annotations

import json
import shutil

import click

from indexnet.kernels.activations import ACTIVATIONS


def _sizes(ctx, param, value: str) -> tuple:
    try:
        sizes = tuple(int(part) for part in value.replace(" ", "").split(",") if part)
    except ValueError:
        raise click.BadParameter(f"expected integers like 3,3,1; got {value!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise click.BadParameter(f"expected at least 2 positive integers; got {value!r}")
    return sizes


@click.command("explain")
@click.option(
    "--sizes", default="3,3,1", show_default=True, callback=_sizes,
    help="Units per layer, input first (at most 8 a layer, 5 layers).",
)  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--examples", "-m", type=click.IntRange(1, 3), default=1, show_default=True,
    help="Random examples m.",
)  # fmt: skip
@click.option(
    "--activation", type=click.Choice(sorted(ACTIVATIONS)), default="sigmoid", show_default=True,
    help="f of every layer.",
)  # fmt: skip
@click.option("--lam", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Weight decay lambda.")  # fmt: skip
@click.option("--alpha", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="Learning rate of the update.")  # fmt: skip
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the page (drawing, equations, kernel lines) to this file.")  # fmt: skip
@click.option("--symbolic", is_flag=True,
              help="Also check every delta and gradient with sympy (pip install "
                   "'indexnet[symbolic]'); fails if any differs.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--width", type=click.IntRange(40), help="Columns to fit (default: the terminal's).")
def explain_command(sizes, seed, examples, activation, lam, alpha, html_path, symbolic, as_json,
                    width):  # fmt: skip
    """Write out one pass of backpropagation on a small network: every number, the equation it
    comes from, and the loop-kernel line that computed it, each delta and gradient confirmed by
    a central difference.

    Default: UFLDL's small network (3 inputs, 3 hidden units, 1 output), one random example.
    The numbers are Network.trace's; the kernel lines are read from the code.
    """
    from indexnet.reading.explain import default_problem, explain

    try:
        net, X, Y = default_problem(
            sizes, seed=seed, m=examples, hidden=activation, output=activation
        )
        explanation = explain(net, X, Y, lam=lam, alpha=alpha)
        if symbolic:
            explanation.check_symbolic()
    except (ValueError, TypeError, ImportError) as error:
        raise click.ClickException(str(error)) from error
    if html_path:
        explanation.write_html(html_path)
    if as_json:
        click.echo(json.dumps(explanation.as_dict(), indent=2, ensure_ascii=False))
    else:
        width = width or shutil.get_terminal_size((100, 24)).columns
        click.echo(explanation.text(width), nl=False)
        if html_path:
            click.echo(f"wrote {html_path}")
    if symbolic and not all(check.equal for check in explanation.symbolic):
        failed = [c.unit for c in explanation.symbolic if not c.equal]
        raise click.ClickException(f"symbolic check failed for {', '.join(failed)}")
