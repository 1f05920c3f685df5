"""Record this machine's run of the default suite: ``python bench/record.py``.

Runs ``indexnet bench`` with 1 thread and with 2 threads (``loops-parallel`` needs two), each
with ``--json`` and ``--plot``, into ``bench/results/``, then writes the tables as Markdown in
``bench/results/README.md``. The suite itself is ``indexnet.bench.DEFAULT_SUITE``.
"""

import json
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def run(threads: int) -> dict:
    stem = RESULTS / f"step-{threads}thread"
    command = [sys.executable, "-m", "indexnet", "bench", "--threads", str(threads), "--json"]
    command += ["--plot", f"{stem}.png"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    stem.with_suffix(".json").write_text(output)
    return json.loads(output)


def seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def table(rows: list, kernel: str) -> list[str]:
    rows = [r for r in rows if r["kernel"] == kernel]
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    lines = ["| shape | m | " + " | ".join(backends) + " |", "|---|---|" + "---|" * len(backends)]
    for case in dict.fromkeys((tuple(r["shape"]), r["batch"]) for r in rows):
        cells = []
        for backend in backends:
            row = next(
                (
                    r
                    for r in rows
                    if (tuple(r["shape"]), r["batch"], r["backend"]) == (*case, backend)
                ),
                None,
            )
            cells.append(
                "-"
                if row is None
                else f"{seconds(row['median_s'])} ({row['ratio_to_vectorized']:.2g}x)"
            )
        lines.append(f"| {list(case[0])} | {case[1]} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        "# Recorded `indexnet bench` runs",
        "",
        "Regenerate with `python bench/record.py`. Each cell: median time of one call, and in",
        "brackets the speed-up over `vectorized` (NumPy/BLAS) measured in the same run.",
    ]
    for threads in (1, 2):
        data = run(threads)
        machine = data["machine"]
        blas = ", ".join(
            f"{b['internal_api']} {b['version']} ({b['architecture']})"
            for b in machine["blas"]
            if b["internal_api"] != "openmp"
        )
        lines += [
            "",
            f"## {threads} thread(s)",
            "",
            f"{machine['cpu']}, {machine['cores']} cores; Python {machine['python']}, "
            f"NumPy {machine['numpy']}, Numba {machine['numba']} "
            f"({machine['numba_threading_layer']}), BLAS: {blas}"
            + (f", torch {machine['torch']}" if "torch" in machine else "")
            + f". Threads in effect: {machine['threads_in_effect']}.",
            "",
            "One training step (forward, cost, deltas, gradients with weight decay, update),",
            "float64, sigmoid, squared error:",
            "",
            *table(data["results"], "step"),
            "",
            "SGD with batch 1, the loop over an epoch inside the backend (per step):",
            "",
            *table(data["results"], "sgd_epochs"),
            "",
            f"![time against work, {threads} thread(s)](step-{threads}thread.png)",
        ]
        if data["notes"]:
            lines += ["", *[f"- {note}" for note in data["notes"]]]
    (RESULTS / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
