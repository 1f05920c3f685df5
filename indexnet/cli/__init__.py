"""The ``indexnet`` command line: a click group; no numerics live here."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from itertools import pairwise

import click

from indexnet.cli.explain import explain_command
from indexnet.cli.learn import check, docs, show
from indexnet.cli.train import train_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="indexnet")
def cli():
    """indexnet: UFLDL's backpropagation as Numba loop kernels beside NumPy twins."""


cli.add_command(show)
cli.add_command(docs)
cli.add_command(check)
cli.add_command(train_command)
cli.add_command(explain_command)


def _integers(text: str, name: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected integers separated by commas; got {text!r}", param_hint=name
        ) from None
    if not values or min(values) < 1:
        raise click.BadParameter(f"expected positive integers; got {text!r}", param_hint=name)
    return values


def _format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _aligned(lines) -> str:
    """Rows of cells as text, each column right-aligned to its widest cell."""
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    )


def _table(rows, backends) -> str:
    """Shape, m, then one column a backend: median time and speed-up over vectorized; where
    references were timed, last the loops' speed-up over the fastest of them (loops-parallel's,
    where it ran: with threads)."""
    lead = "loops-parallel" if any(r.backend == "loops-parallel" for r in rows) else "loops"
    against = any(r.ratio_to_best_reference for r in rows if r.backend == lead)
    header = ["shape", "m", *backends, *([f"{lead} vs best reference"] if against else [])]
    lines = [header]
    cases = list(dict.fromkeys((tuple(r.shape), r.batch) for r in rows))
    for shape, batch in cases:
        cells = [str(list(shape)), str(batch)]
        for backend in backends:
            row = next(
                (
                    r
                    for r in rows
                    if (tuple(r.shape), r.batch, r.backend) == (shape, batch, backend)
                ),
                None,
            )
            if row is None:
                cells.append("-")
            else:
                ratio = f" ({row.ratio_to_vectorized:.2g}x)" if row.ratio_to_vectorized else ""
                cells.append(_format_seconds(row.median_s) + ratio)
        if against:
            loops = next(
                (r for r in rows if (tuple(r.shape), r.batch, r.backend) == (shape, batch, lead)),
                None,
            )
            ratio = loops.ratio_to_best_reference if loops else None
            cells.append(f"{ratio:.2g}x ({loops.best_reference})" if ratio else "-")
        lines.append(cells)
    return _aligned(lines)


def _kernel_table(rows) -> str:
    """One row a kernel: its serial time, and loops-parallel's with its speed-up over it."""
    lines = [["kernel", "loops", "loops-parallel"]]
    for name in dict.fromkeys(r.kernel for r in rows):
        serial = next(r for r in rows if (r.kernel, r.backend) == (name, "loops"))
        parallel = next(r for r in rows if (r.kernel, r.backend) == (name, "loops-parallel"))
        speedup = serial.median_s / parallel.median_s
        lines.append(
            [
                name,
                _format_seconds(serial.median_s),
                f"{_format_seconds(parallel.median_s)} ({speedup:.2g}x)",
            ]
        )
    return _aligned(lines)


@cli.command("bench")
@click.option(
    "--kernel",
    default="step",
    show_default=True,
    help=(
        "What to time: 'step' (forward, cost, deltas, gradients, update), 'public' "
        "(Network.cost_and_gradient from Python), 'gradient_descent' (per iteration) or one kernel."
    ),
)
@click.option("--sizes", "sizes", multiple=True, help="Layer sizes, e.g. 64,25,64 (repeatable).")
@click.option(
    "--suite",
    type=click.Choice(["dense", "conv"]),
    default="dense",
    show_default=True,
    help="dense: the fully connected suite; conv: a convolutional network's step "
    "(UFLDL's 28x28, 20 filters 9x9, pool 2, batch 256, and a small 8x8 one).",
)
@click.option(
    "--batch",
    multiple=True,
    help="Batch sizes m, e.g. 1,100,10000 (repeatable; with --sizes).",
)
@click.option(
    "--backend",
    "backends",
    multiple=True,
    help=(
        "Backends to time (repeatable): loops, loops-parallel, vectorized, python; and the "
        "references numpy-fast, jax, torch."
    ),
)
@click.option(
    "--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Numba, BLAS and torch threads.",
)
@click.option(
    "--repeat", type=click.IntRange(min=1), default=7, show_default=True, help="Samples per row."
)
@click.option(
    "--min-time",
    type=click.FloatRange(min=0),
    default=0.05,
    show_default=True,
    help="Least seconds per sample.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object to stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV rows to stdout.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Draw time against work to this PNG.")
def bench_command(
    kernel, sizes, suite, batch, backends, dtype, threads, repeat, min_time, as_json, as_csv, plot
):
    """Time loop kernels against vectorized NumPy, side by side.

    Each row is the median of --repeat samples of one call, after a warm-up call whose time
    (JIT compile, or load from Numba's cache) is reported apart. Every backend's result is
    checked against the vectorized one before it is timed. Without --sizes, runs the default
    suite twice, as the compiled step and as the user's call (Network.cost_and_gradient), then
    indexnet.gradient_descent per iteration and a row of SGD with the loop inside the backend.
    The step is also timed in NumPy written for speed, JAX and torch (where installed), and
    the last column gives the loops' speed-up over the fastest of them.
    """
    from indexnet.api import bench

    if suite == "conv":
        if sizes or batch or backends or as_csv or plot or kernel != "step":
            raise click.UsageError(
                "--suite conv takes --dtype, --threads, --repeat, --min-time, --json"
            )
        with bench.cpus_kept():
            _bench_conv(dtype, threads, repeat, min_time, as_json)
        return
    if kernel not in bench.KERNELS:
        raise click.BadParameter(
            f"expected one of {', '.join(bench.KERNELS)}; got {kernel!r}", param_hint="--kernel"
        )
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are exclusive")
    if batch and not sizes:
        raise click.UsageError("--batch needs --sizes")
    if sizes:
        # Every --batch counts, each a comma list; a size given twice is timed once.
        batches = [m for text in batch for m in _integers(text, "--batch")] or [100]
        batches = list(dict.fromkeys(batches))
        suite = [(tuple(_integers(s, "--sizes")), m) for s in sizes for m in batches]
        for shape, _ in suite:
            if len(shape) < 2:
                raise click.BadParameter(
                    f"expected at least 2 layers; got {shape}", param_hint="--sizes"
                )
    else:
        suite = list(bench.DEFAULT_SUITE)
    with bench.cpus_kept():
        _bench(bench, kernel, suite, sizes, backends, dtype, threads, repeat, min_time, as_json,
               as_csv, plot)  # fmt: skip


def _bench_conv(dtype, threads, repeat, min_time, as_json):
    """``indexnet bench --suite conv``: a convolutional network's step, loops, twin, torch."""
    import numpy as np

    from indexnet.api import bench, bench_conv

    effect = bench.set_threads(threads)
    numpy_dtype = np.float64 if dtype == "float64" else np.float32
    length = len(bench_conv.SUITE) * 5
    with click.progressbar(length=length, label="bench", file=sys.stderr, show_pos=True) as bar:
        try:
            rows = bench_conv.run(
                numpy_dtype, threads, repeat, min_time, bench_conv.SUITE,
                progress=lambda label: bar.update(1),
            )  # fmt: skip
        except bench.BenchDisagreement as error:
            raise click.ClickException(str(error)) from error
    machine = {**bench.machine(), "threads_in_effect": effect}
    notes = (
        [] if bench.torch_available() else ["torch: not installed (pip install 'indexnet[torch]')"]
    )
    if as_json:
        results = [r.as_dict() for r in rows]
        click.echo(json.dumps({"machine": machine, "results": results, "notes": notes}, indent=2))
        return
    click.echo(_header(machine))
    click.echo(
        f"\none step of a convolutional network, cost and gradient ({dtype}, {threads} "
        "thread(s)); median, first call (compile) apart; speed-up of loops over each:"
    )
    lines = [["case", "call", "loops", "vectorized", "torch", "loops vs twin", "loops vs torch"]]
    for name, image, stage, batch in bench_conv.SUITE:
        filters, size, pool = stage
        label = f"{name}: {image[1]}x{image[2]}, {filters} filters {size}x{size}, pool {pool}"
        label += f", m={batch}"
        for call in ("public", "kernels"):
            found = {r.backend: r for r in rows if r.case == name and r.call == call}
            torch = next((r for r in rows if r.case == name and r.backend == "torch"), None)
            loops = found["loops"]
            lines.append(
                [
                    label if call == "public" else "",
                    "user's call" if call == "public" else "kernels alone",
                    f"{_format_seconds(loops.median_s)} (first {loops.first_call_s:.2g} s)",
                    _format_seconds(found["vectorized"].median_s),
                    "-" if torch is None else _format_seconds(torch.median_s),
                    f"{loops.ratio_to_vectorized:.2f}x",
                    "-" if torch is None else f"{torch.median_s / loops.median_s:.2f}x",
                ]
            )
    click.echo(_aligned(lines))
    for note in notes:
        click.echo(f"note: {note}")


def _bench(bench, kernel, suite, sizes, backends, dtype, threads, repeat, min_time, as_json,
           as_csv, plot):  # fmt: skip
    """The bench command's work, its CPUs restored afterwards by the caller."""
    import numpy as np

    effect = bench.set_threads(threads)
    available = bench.backends_available(threads)
    if backends:
        known = [*bench.BACKENDS, *bench.references.REFERENCES]
        for name in backends:
            if name not in known:
                raise click.BadParameter(
                    f"expected one of {', '.join(known)}; got {name!r}", param_hint="--backend"
                )
            if name not in available and name in bench.references.REFERENCES:
                raise click.ClickException(
                    f"{name} is not installed: pip install 'indexnet[{name}]'"
                )
        chosen = list(dict.fromkeys(backends))
    else:
        chosen = available
    if "vectorized" not in chosen:
        chosen.append("vectorized")  # the reference every other backend is checked against
    numpy_dtype = np.float64 if dtype == "float64" else np.float32
    plans = [(kernel, suite)]
    if not sizes and kernel == "step":
        plans.append((bench.PUBLIC, suite))
        plans.append((bench.DESCENT, suite[:3]))
        plans.append((bench.SGD, [((3, 3, 1), 64)]))
    # With threads, each parallel kernel alone against the serial one, at the largest shape.
    largest = max(suite, key=lambda case: case[1] * sum(map(math.prod, pairwise(case[0]))))
    pairs = ["loops", "loops-parallel"]
    per_kernel = kernel == bench.STEP and threads > 1 and set(pairs) <= set(chosen)
    if per_kernel:
        plans += [(name, [largest]) for name in bench.PARALLEL_KERNELS]
    rows, notes = [], []
    length = sum(len(s) for _, s in plans) * len(chosen)
    with click.progressbar(length=length, label="bench", file=sys.stderr, show_pos=True) as bar:

        def progress(label):
            bar.label = label.ljust(40)
            bar.update(1)

        for planned_kernel, planned_suite in plans:
            # The references time the step only: the other plans leave them out.
            timing = [b for b in chosen if planned_kernel == kernel or b in bench.BACKENDS]
            if planned_kernel in bench.PARALLEL_KERNELS and per_kernel:
                timing = pairs
            try:
                found, skipped = bench.run(
                    planned_suite, timing, kernel=planned_kernel, dtype=numpy_dtype,
                    threads=threads, repeat=repeat, min_time=min_time, progress=progress,
                )  # fmt: skip
            except bench.BenchDisagreement as error:
                raise click.ClickException(str(error)) from error
            rows += found
            notes += [note for note in skipped if note not in notes]
    for name in ("jax", "torch"):
        if name not in available:
            notes.append(f"{name}: not installed (pip install 'indexnet[{name}]' to compare)")
    if threads == 1 and not backends:
        notes.append("loops-parallel: left out with --threads 1")
    machine = bench.machine()
    machine["threads_in_effect"] = effect
    if plot:
        try:
            bench.plot([r for r in rows if r.kernel == kernel], plot)
        except ImportError as error:
            raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(
            json.dumps(
                {"machine": machine, "results": [r.as_dict() for r in rows], "notes": notes},
                indent=2,
            )
        )
        return
    if as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0].as_dict()) if rows else ["kernel"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row.as_dict(), "shape": "x".join(map(str, row.shape))})
        click.echo(out.getvalue(), nl=False)
        return
    click.echo(_header(machine))
    for planned_kernel, _ in plans:
        mine = [r for r in rows if r.kernel == planned_kernel]
        if not mine or (per_kernel and planned_kernel in bench.PARALLEL_KERNELS):
            continue
        title = bench.TITLES.get(planned_kernel, planned_kernel)
        click.echo(
            f"\n{title} ({dtype}, {threads} thread(s)); median, and speed-up over vectorized:"
        )
        click.echo(_table(mine, [b for b in chosen if any(r.backend == b for r in mine)]))
    if per_kernel:
        shape, batch = largest
        click.echo(
            f"\neach kernel alone, {list(shape)} m={batch} ({dtype}, {threads} thread(s)); "
            "median, and loops-parallel's speed-up over loops:"
        )
        click.echo(_kernel_table([r for r in rows if r.kernel in bench.PARALLEL_KERNELS]))
    first = {}
    for row in rows:
        first.setdefault(row.backend, row.first_call_s)
    click.echo(
        "\nfirst call, timed apart (JIT compile or load from Numba's cache): "
        + ", ".join(f"{b} {_format_seconds(s)}" for b, s in first.items())
    )
    for note in notes:
        click.echo(f"note: {note}")
    if plot:
        click.echo(f"plot written to {plot}")


def _pools(machine: dict) -> str:
    return "; ".join(
        f"{b['internal_api']} {b['version'] or ''} ({b['architecture'] or '-'}, "
        f"{b['num_threads']} threads)"
        for b in machine["blas"]
    )


PROXY = ", a proxy: NUMBA_CPU_NAME and NUMBA_CPU_FEATURES set"


def _header(machine: dict) -> str:
    torch = ""
    if "torch" in machine:
        isa = f", {machine['torch_isa']}" if machine.get("torch_isa") else ""
        torch = f", torch {machine['torch']} ({machine['torch_threads']} threads{isa})"
    if "jax" in machine:
        flags = f", XLA_FLAGS={machine['xla_flags']}" if machine.get("xla_flags") else ""
        torch += f", jax {machine['jax']} (on {machine.get('cpus_allowed', '?')} CPUs{flags})"
    return "\n".join(
        [
            f"machine: {machine['cpu']} ({machine['machine']}, model {machine['cpu_model']}), "
            f"{machine['cores']} cores; kernels compiled for {machine['numba_cpu']} "
            f"({machine['isa']}{PROXY if machine['proxy'] else ''})",
            f"python {machine['python']}, numpy {machine['numpy']}, scipy {machine['scipy']}, "
            f"numba {machine['numba']} ({machine['numba_threads']} threads, "
            f"{machine['numba_threading_layer']}){torch}",
            f"BLAS and thread pools: {_pools(machine)}",
        ]
    )
