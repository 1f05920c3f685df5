"""The ``indexnet`` command line: a click group; no numerics live here."""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="indexnet")
def cli():
    """indexnet: UFLDL's backpropagation as Numba loop kernels beside NumPy twins."""
