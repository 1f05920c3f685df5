"""``indexnet explain``: one pass of backpropagation with every number, equation and kernel line.

A plain :func:`click.command` that :mod:`indexnet.cli` adds to the group. The pages come from
:mod:`indexnet.reading.explain` (numbers from ``Network.trace``) and the checks from
:mod:`indexnet.reading.symbolic`; with ``--conv``, from :mod:`indexnet.reading.explain_conv`
(numbers from ``ConvNetwork.trace``). This module only parses options and prints.
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


def _position(ctx, param, value: str | None) -> tuple | None:
    if value is None:
        return None
    parts = value.replace(" ", "").split(",")
    try:
        r, c = (int(part) for part in parts)
    except ValueError:
        raise click.BadParameter(f"expected two integers R,C like 2,3; got {value!r}") from None
    return r, c


CONV_ONLY = ("at", "channel")
"""Options that only ``--conv`` reads."""
DENSE_ONLY = ("sizes", "examples", "alpha", "symbolic")
"""Options that ``--conv`` does not read."""


@click.command("explain")
@click.pass_context
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
@click.option("--conv", is_flag=True,
              help="Explain a convolutional layer's error instead: conv_delta's sum, term by "
                   "term, on a tiny two-stage ConvNetwork (8x8 image, 2 filters 3x3, then 2 "
                   "filters 3x3 and 2x2 pooling).")  # fmt: skip
@click.option("--at", callback=_position, metavar="R,C",
              help="With --conv: the input position (r, c) of the first stage's 6x6 maps, from "
                   "0 (default: the centre).")  # fmt: skip
@click.option("--channel", type=click.IntRange(min=0),
              help="With --conv: the input channel d, from 0 (default 0).")  # fmt: skip
def explain_command(ctx, sizes, seed, examples, activation, lam, alpha, html_path, symbolic,
                    as_json, width, conv, at, channel):  # fmt: skip
    """Write out one pass of backpropagation on a small network: every number, the equation it
    comes from, and the loop-kernel line that computed it, each delta and gradient confirmed by
    a central difference.

    Default: UFLDL's small network (3 inputs, 3 hidden units, 1 output), one random example.
    The numbers are Network.trace's; the kernel lines are read from the code.

    With --conv: the error of one input position of a convolutional layer, its sum over k, p, q
    written out term by term (the terms outside the map marked absent), set beside
    loops.conv_delta, the NumPy twin and a central difference.
    """
    given = {
        name for name in (*CONV_ONLY, *DENSE_ONLY)
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    }  # fmt: skip
    if conv:
        misplaced = sorted(given & set(DENSE_ONLY))
        if misplaced:
            raise click.UsageError(f"--{misplaced[0]} does not go with --conv")
        _explain_conv(seed, activation, lam, html_path, as_json, width, at, channel or 0)
        return
    misplaced = sorted(given & set(CONV_ONLY))
    if misplaced:
        raise click.UsageError(f"--{misplaced[0]} goes with --conv")
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


def _explain_conv(seed, activation, lam, html_path, as_json, width, at, channel):
    """``indexnet explain --conv``, from :mod:`indexnet.reading.explain_conv`."""
    from indexnet.reading.explain_conv import PositionError, default_conv_problem, explain_conv

    try:
        net, X, Y = default_conv_problem(seed, activation=activation)
        explanation = explain_conv(net, X, Y, at=at, channel=channel, lam=lam)
    except PositionError as error:
        raise click.BadParameter(str(error), param_hint=f"'--{error.option}'") from error
    except (ValueError, TypeError) as error:
        raise click.ClickException(str(error)) from error
    if html_path:
        explanation.write_html(html_path)
    if as_json:
        click.echo(json.dumps(explanation.as_dict(), indent=2, ensure_ascii=False))
        return
    width = width or shutil.get_terminal_size((100, 24)).columns
    click.echo(explanation.text(width), nl=False)
    if html_path:
        click.echo(f"wrote {html_path}")
