"""Record this machine's run of the default suite: ``python bench/record.py``.

Runs ``indexnet bench`` with ``--json`` (and ``--plot`` for float64) for each thread count and
dtype asked, into ``bench/results/<machine>/``, one folder per CPU model and instruction set,
then writes that folder's tables as Markdown in its ``README.md`` and the list of machines in
``bench/results/README.md``. The suite itself is ``indexnet.api.bench.DEFAULT_SUITE``.

``--proxy haswell`` compiles the kernels for Haswell (AVX2) on whatever machine this is
(``NUMBA_CPU_NAME=haswell`` and the host's ``NUMBA_CPU_FEATURES`` without AVX-512, see
``indexnet.api.bench.avx2_proxy``) and makes OpenBLAS take its Haswell kernels
(``OPENBLAS_CORETYPE=Haswell``): AVX2 code on an AVX-512 machine, recorded in a folder of its
own whose name says it is a proxy.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from indexnet.api.bench import TITLES, avx2_proxy

RESULTS = Path(__file__).parent / "results"


def run(folder: Path, threads: int, dtype: str, environment: dict) -> dict:
    stem = folder / f"{dtype}-{threads}thread"
    command = [sys.executable, "-m", "indexnet", "bench", "--threads", str(threads), "--json"]
    command += ["--dtype", dtype]
    if dtype == "float64":
        command += ["--plot", f"{stem}.png"]
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, env=environment
    ).stdout
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
    lead = "loops-parallel" if "loops-parallel" in backends else "loops"
    against = any(r.get("ratio_to_best_reference") for r in rows if r["backend"] == lead)
    columns = [*backends, *([f"{lead} vs best reference"] if against else [])]
    lines = ["| shape | m | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
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
        if against:
            loops = next(
                r for r in rows if (tuple(r["shape"]), r["batch"], r["backend"]) == (*case, lead)
            )
            ratio = loops.get("ratio_to_best_reference")
            cells.append(f"{ratio:.2g}x ({loops['best_reference']})" if ratio else "-")
        lines.append(f"| {list(case[0])} | {case[1]} | " + " | ".join(cells) + " |")
    return lines


def describe(machine: dict) -> str:
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} ({b['architecture']})"
        for b in machine["blas"]
        if b["internal_api"] != "openmp"
    )
    proxy = " (a proxy: NUMBA_CPU_NAME and NUMBA_CPU_FEATURES set)" if machine["proxy"] else ""
    return (
        f"{machine['cpu']} (model {machine['cpu_model']}), {machine['cores']} cores; kernels "
        f"compiled for {machine['numba_cpu']}, {machine['isa']}, {machine['vector_bits']}-bit "
        f"vectors{proxy}; Python {machine['python']}, NumPy {machine['numpy']}, Numba "
        f"{machine['numba']} ({machine['numba_threading_layer']}), BLAS: {blas}"
        + (f", torch {machine['torch']}" if "torch" in machine else "")
        + (
            f", jax {machine['jax']} (on {machine.get('cpus_allowed')} CPUs)"
            if "jax" in machine
            else ""
        )
        + f". Threads in effect: {machine['threads_in_effect']}."
    )


def slug(machine: dict, proxy: str) -> str:
    cpu = re.sub(r"\((R|TM)\)|processor|cpu", "", machine["cpu"], flags=re.IGNORECASE)
    words = re.sub(r"[^a-z0-9]+", "-", cpu.lower()).strip("-")
    model = machine["cpu_model"].replace("/", "-")
    host_isa = machine["isa"].lower().replace("-", "")
    return f"{words}-{model}-{host_isa}" + (f"-{proxy}-proxy" if proxy else "")


def commit() -> str:
    """The checkout's commit, marked ``+changes`` when its tracked files other than the
    recorded runs differ from it."""

    def git(*args):
        found = subprocess.run(["git", *args], cwd=RESULTS, capture_output=True, text=True)
        return found.stdout.strip() if found.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (
        "+changes"
        if git(
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            ":/",
            ":(top,exclude)bench/results",
        )
        else ""
    )


def index() -> None:
    lines = [
        "# Recorded `indexnet bench` runs, one folder per machine",
        "",
        "Each folder holds one machine's run of the default suite (`python bench/record.py`,",
        "and `python bench/record.py --proxy haswell` for AVX2 code on an AVX-512 machine).",
        "",
    ]
    for folder in sorted(p for p in RESULTS.iterdir() if (p / "README.md").exists()):
        text = (folder / "README.md").read_text()
        target = re.search(r"kernels compiled for ([^;]+);", text)
        recorded = re.search(r"at commit (\S+ on [0-9-]+)", text)
        title = text.splitlines()[2] + (f"; {target.group(1)}" if target else "")
        title += f"; commit {recorded.group(1)}" if recorded else ""
        lines.append(f"- [{folder.name}]({folder.name}/README.md): {title}")
    (RESULTS / "README.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxy", choices=["haswell"], help="compile for this CPU instead")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    options = parser.parse_args()
    environment = dict(os.environ)
    if options.proxy:
        environment.update(avx2_proxy())
    staging = RESULTS / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    runs = []
    for threads in options.threads:
        for dtype in options.dtypes:
            if threads > 1 and dtype != "float64":
                continue  # threads: float64 only
            runs.append((threads, dtype, run(staging, threads, dtype, environment)))
    machine = runs[0][2]["machine"]
    folder = RESULTS / slug(machine, options.proxy)
    folder.mkdir(exist_ok=True)
    lines = [f"# {folder.name}", "", describe(machine).split(";")[0], ""]
    lines += [
        "Recorded with `python bench/record.py"
        + (f" --proxy {options.proxy}`" if options.proxy else "`")
        + f" at commit {commit()} on {date.today().isoformat()}. Each cell: median time of one",
        "call, and in brackets the speed-up over `vectorized` (NumPy/BLAS) measured in the same",
        "run; the last column, the loops' speed-up (loops-parallel's, with threads) over the",
        "fastest of the references (NumPy written for speed, JAX, torch) in the same run. Sigmoid",
        "units, squared error, weight decay.",
    ]
    for threads, dtype, data in runs:
        lines += ["", f"## {dtype}, {threads} thread(s)", "", describe(data["machine"])]
        for kernel, title in TITLES.items():
            if any(r["kernel"] == kernel for r in data["results"]):
                title = title[0].upper() + title[1:]
                lines += ["", f"{title}:", "", *table(data["results"], kernel)]
        if dtype == "float64":
            lines += ["", f"![time against work]({dtype}-{threads}thread.png)"]
        if data["notes"]:
            lines += ["", *[f"- {note}" for note in dict.fromkeys(data["notes"])]]
    for path in staging.iterdir():
        path.replace(folder / path.name)
    staging.rmdir()
    (folder / "README.md").write_text("\n".join(lines) + "\n")
    index()


if __name__ == "__main__":
    main()
