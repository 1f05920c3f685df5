"""Every script in examples/ runs as ``python examples/NAME.py --quick`` and its printed claims
hold: the numbers it prints are parsed back and checked here. Every script is also a notebook:
jupytext percent cells (``# %%``), the math in Markdown cells. Read as one, each has Markdown
with math and code; executed as one by nbclient in a Jupyter kernel at --quick size
(``INDEXNET_QUICK=1``, a kernel has no command line), it prints what the script prints.

The scripts and the notebooks all run at the same time, in their own processes, once for the
module, and the claims are read from the scripts' runs. The kernel is this interpreter
(``sys.executable``), from a kernelspec written to a temporary folder: whatever else is
installed as "python3" is not used.
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import importlib.util
import json
import os
import re
import sys
import traceback
from pathlib import Path

import jupytext
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = sorted(path.stem for path in EXAMPLES.glob("*.py"))
NEEDS_SKLEARN = {"digits", "sparse_autoencoder"}  # their data ships with scikit-learn
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None
KERNEL = "indexnet-examples"
CELL_TIMEOUT = 300  # seconds for one cell; the slowest takes a few at --quick size
STARTUP_TIMEOUT = 120  # seconds for a kernel to start and answer
TOTAL_TIMEOUT = 600  # seconds for one notebook or script, start to end
# A line each notebook must print (besides printing what its script prints): the --quick size
# where the example has one, else a result.
KEY = {
    "digits": r"L-BFGS: 25 iterations in",
    "own_training_loop": r"mu = 0\.9: J from .* in 1000 iterations",
    "sparse_autoencoder": r"after 40 L-BFGS iterations",
    "ufldl_network": r"dJ/db_1\^\(2\) +=",
    "where_the_sum_comes_from": r"entries with k != i that are exactly 0\.0: 12 of 12",
    "why_average": r"^ +1000 .* diverged at iteration \d+$",
    "why_one_half": r"^m = 20 examples",
    "why_rot90": r"^over 20 random cases",
    "why_weight_decay": r"\(mean over 1 training set;",
}
MATH = re.compile(r"\$[^$]+\$")


def runnable(name):
    return HAVE_SKLEARN or name not in NEEDS_SKLEARN


def without_timings(text):
    """``0.31 s`` -> ``<t> s``: the only part of the output that changes from run to run."""
    return re.sub(r"\d+\.\d+ s\b", "<t> s", text)


def kernelspec(folder: Path) -> KernelSpecManager:
    """A kernelspec, in ``folder`` only, that starts this interpreter at the --quick size."""
    spec = folder / KERNEL
    spec.mkdir(parents=True)
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "indexnet examples (quick)",
        "language": "python",
        "env": {
            "INDEXNET_QUICK": "1",
            # the kernel's IPython profile and history: nothing read from or left in ~/.ipython
            "IPYTHONDIR": str(folder / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",  # no DeprecationWarning from jupyter_core about them
        },
    }
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(folder)])


async def run_script(name, cwd, slots):
    """stdout, stderr and exit status of ``python examples/NAME.py --quick``."""
    env = {key: value for key, value in os.environ.items() if key != "INDEXNET_QUICK"}
    async with slots:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / f"{name}.py"),
            "--quick",
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), TOTAL_TIMEOUT)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            return {"error": f"python examples/{name}.py --quick ran past {TOTAL_TIMEOUT} s"}
    if process.returncode:
        return {"error": f"python examples/{name}.py --quick failed:\n{stderr.decode()}"}
    return {"stdout": stdout.decode(), "stderr": stderr.decode()}


async def run_notebook(name, cwd, specs, slots):
    """The notebook's stdout and stderr (every cell's, in order), or what went wrong."""
    notebook = jupytext.read(str(EXAMPLES / f"{name}.py"), fmt="py:percent")
    manager = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT,
        startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(cwd)}},  # the kernel's working directory
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
    )
    async with slots:
        try:
            # cleanup_kc: shut the kernel down afterwards, though the client does not own `km`
            await asyncio.wait_for(client.async_execute(cleanup_kc=True), TOTAL_TIMEOUT)
        except CellExecutionError as error:
            return {"error": f"a cell of the notebook {name} raised:\n{error}"}
        except Exception as error:
            if type(error) is asyncio.TimeoutError:  # wait_for's own, not a cell's timeout
                return {"error": f"the notebook {name} ran past {TOTAL_TIMEOUT} s"}
            # the kernel did not start (no ipykernel?), died, or a cell ran past CELL_TIMEOUT
            return {
                "error": f"the notebook {name} did not run in a Jupyter kernel "
                f"({sys.executable} -m ipykernel_launcher): {error!r}\n{traceback.format_exc()}"
            }
        finally:
            # nbclient leaves this registered when the kernel fails to start: it would only
            # raise at exit, the kernel being cleaned up already
            atexit.unregister(client._cleanup_kernel)
    streams = {"stdout": [], "stderr": []}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                streams[output["name"]].append(output["text"])
    return {key: "".join(texts) for key, texts in streams.items()}


async def run_all(names, folder):
    specs = kernelspec(folder / "kernels")
    slots = asyncio.Semaphore(max(2, os.cpu_count() or 1))
    jobs = {}
    for name in names:
        for kind in ("script", "notebook"):
            cwd = folder / kind / name  # sparse_autoencoder writes its picture here
            cwd.mkdir(parents=True)
            if kind == "script":
                jobs[name, kind] = run_script(name, cwd, slots)
            else:
                jobs[name, kind] = run_notebook(name, cwd, specs, slots)
    results = await asyncio.gather(*jobs.values())
    return dict(zip(jobs, results, strict=True))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{(name, "script" or "notebook"): {"stdout", "stderr"} or {"error"}}, and their folder."""
    folder = tmp_path_factory.mktemp("notebooks")
    return asyncio.run(run_all([name for name in NAMES if runnable(name)], folder)), folder


def test_every_example_is_found():
    assert len(NAMES) >= 8 and "why_one_half" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_reads_as_a_notebook_with_the_math_in_markdown(name):
    notebook = jupytext.read(str(EXAMPLES / f"{name}.py"), fmt="py:percent")
    assert notebook.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert notebook.cells[0].cell_type == "markdown", "the notebook opens with its explanation"
    assert notebook.cells[0].source.startswith("# "), "and a title"
    assert any("$$" in text for text in markdown), "display math in a Markdown cell"
    assert MATH.search(markdown[0]), "math in the first Markdown cell"
    assert len(code) >= 2 and all(text.strip() for text in code)
    # the first code cell keeps the module docstring: how to run it, as script and notebook
    assert code[0].startswith('"""') and f"python examples/{name}.py" in code[0]
    assert "INDEXNET_QUICK" in code[0]


@pytest.mark.parametrize("name", NAMES)
def test_runs_as_a_notebook_and_prints_what_the_script_prints(runs, name):
    if not runnable(name):
        pytest.skip("needs scikit-learn for its data")
    results, folder = runs
    script, notebook = results[name, "script"], results[name, "notebook"]
    if "error" in notebook:
        pytest.fail(notebook["error"], pytrace=False)
    if "error" in script:
        pytest.fail(script["error"], pytrace=False)
    assert "Warning" not in notebook["stderr"], notebook["stderr"]
    assert notebook["stdout"].strip(), "the notebook printed nothing"
    assert without_timings(notebook["stdout"]) == without_timings(script["stdout"])
    if name in KEY:
        assert re.search(KEY[name], notebook["stdout"], re.MULTILINE), KEY[name]
    if name == "sparse_autoencoder":
        picture = folder / "notebook" / name / "sparse_autoencoder_features.png"
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "written in the kernel's cwd"


# -- what the scripts print holds ------------------------------------------------------------

CLAIMED = [  # the examples whose printed numbers are checked below
    "why_one_half",
    "why_weight_decay",
    "why_average",
    "where_the_sum_comes_from",
    "ufldl_network",
    "own_training_loop",
    "why_rot90",
]
NUMBER = r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?"


@pytest.fixture(scope="module")
def outputs(runs):
    """Every claimed example's stdout as a script, from the module's runs."""
    results, _ = runs
    found = {}
    for name in CLAIMED:
        script = results[name, "script"]
        if "error" in script:
            pytest.fail(script["error"], pytrace=False)
        assert "Warning" not in script["stderr"], script["stderr"]
        found[name] = script["stdout"]
    return found


def number(text, pattern):
    found = re.search(pattern.replace("NUMBER", f"({NUMBER})"), text)
    assert found, f"no match for {pattern!r}"
    return float(found.group(1))


def test_every_example_quotes_its_equations_and_runs_standalone():
    for name in CLAIMED:
        source = (EXAMPLES / f"{name}.py").read_text(encoding="utf-8")
        # A jupytext header and the Markdown cells (comments, read above) come
        # first; the docstring after them is still the module's.
        assert ast.get_docstring(ast.parse(source)), name
        assert f"python examples/{name}.py" in source
        assert "import indexnet" in source


def test_why_one_half(outputs):
    out = outputs["why_one_half"]
    assert number(out, r"J2 / J = NUMBER") == pytest.approx(2.0, abs=1e-12)
    assert number(out, r"\|\|dJ2 - 2 dJ\|\| / \|\|dJ2 \+ 2 dJ\|\| = NUMBER") < 1e-9
    ratios = re.findall(rf"^\s+\d+\s+{NUMBER}\s+{NUMBER}\s+({NUMBER})$", out, re.MULTILINE)
    assert len(ratios) >= 4
    assert all(float(ratio) == pytest.approx(2.0, abs=1e-8) for ratio in ratios)
    assert number(out, r"max \|theta_J - theta_J2\| = NUMBER") < 1e-10
    assert number(out, r"\|\|dJ2\|\| / \|\|dJ\|\| = NUMBER") == pytest.approx(2.0, abs=1e-4)
    assert number(out, r"there \|\|dJ\|\| = NUMBER") < 1e-2 * number(out, r"at the start NUMBER")
    assert re.search(r"argmin J = 0\s+argmin J2 = 0", out)
    assert "rank all candidates in the same order: True" in out


def test_why_weight_decay(outputs):
    out = outputs["why_weight_decay"]
    assert number(out, r"lambda W\| over the weights = NUMBER") < 1e-14
    assert number(out, r"over the biases = NUMBER") == 0.0
    rows = re.findall(rf"^\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})$", out, re.MULTILINE)
    table = {float(lam): (float(norm), float(valid)) for lam, norm, _, valid in rows[:4]}
    assert sorted(table) == [0.0, 1e-4, 1e-3, 1e-2]
    norms = [table[lam][0] for lam in sorted(table)]
    assert norms == sorted(norms, reverse=True), "larger lambda, smaller weights"
    best = min(table[lam][1] for lam in table if lam > 0)
    assert best < table[0.0][1]
    assert number(out, r"lowest validation error at lambda = NUMBER") > 0
    assert number(out, r"spread = NUMBER") < 1e-9
    assert "flattest at: trained, lambda = 0.001" in out


def test_why_average(outputs):
    out = outputs["why_average"]
    rows = re.findall(
        rf"^\s+(\d+)\s+({NUMBER})\s+{NUMBER}\s+{NUMBER}\s+(\S+)\s+(.+)$", out, re.MULTILINE
    )
    assert [int(m) for m, *_ in rows] == [1, 10, 100, 1000]
    diverged_at = []
    for m, start, average, plain_sum in rows:
        assert float(average) < float(start) / 10, f"the average did not converge for m={m}"
        if m == "1":
            assert plain_sum == average
        else:
            found = re.fullmatch(r"diverged at iteration (\d+)", plain_sum)
            assert found, f"the sum did not diverge for m={m}"
            diverged_at.append(int(found.group(1)))
    assert diverged_at == sorted(diverged_at, reverse=True), "larger m, sooner"


def test_where_the_sum_comes_from(outputs):
    out = outputs["where_the_sum_comes_from"]
    sums = [float(v) for v in re.findall(rf"sum of the terms\s+= +({NUMBER})", out)]
    deltas = [float(v) for v in re.findall(rf"\(indexnet\)\s+= +({NUMBER})", out)]
    finite = [float(v) for v in re.findall(rf"\(finite diff\) = +({NUMBER})", out)]
    assert len(sums) == len(deltas) == len(finite) == 3
    for total, delta, estimate in zip(sums, deltas, finite, strict=True):
        assert total == pytest.approx(delta, rel=1e-12)
        assert estimate == pytest.approx(delta, rel=1e-6)
    terms = re.findall(rf"= +({NUMBER}) \* +({NUMBER}) \* +({NUMBER}) = +({NUMBER})", out)
    assert len(terms) == 6
    for d, w, fp, term in terms:
        assert float(term) == pytest.approx(float(d) * float(w) * float(fp), rel=1e-5)
    locals_ = re.findall(
        rf"dz_\d\^\(3\)/dz_\d\^\(2\) = +({NUMBER}); by finite differences +({NUMBER})", out
    )
    assert len(locals_) == 6
    assert all(float(a) == pytest.approx(float(b), rel=1e-6) for a, b in locals_)
    assert "entries with k != i that are exactly 0.0: 12 of 12" in out
    vectors = re.findall(r"= \[([^\]]+)\]\s+a_\d\^\(1\) delta_k\d = \[([^\]]+)\]", out)
    assert len(vectors) == 6 and all(a == b for a, b in vectors)
    gradients = re.findall(rf"= +({NUMBER})\s+indexnet +({NUMBER})\s+finite diff +({NUMBER})", out)
    assert len(gradients) == 6
    for by_hand, by_indexnet, estimate in gradients:
        assert float(by_hand) == pytest.approx(float(by_indexnet), rel=1e-12)
        assert float(estimate) == pytest.approx(float(by_indexnet), rel=1e-6)


def test_ufldl_network(outputs):
    out = outputs["ufldl_network"]
    shown = re.findall(
        rf"^(\S+) += .*\n += +({NUMBER})\s+\[indexnet: +({NUMBER})\]$", out, re.MULTILINE
    )
    names = [name for name, *_ in shown]
    expected = [f"z_{i}^(2)" for i in (1, 2, 3)] + [f"a_{i}^(2)" for i in (1, 2, 3)]
    expected += ["z_1^(3)", "a_1^(3)", "J", "delta_1^(3)"]
    expected += [f"delta_{i}^(2)" for i in (1, 2, 3)]
    expected += [f"dJ/dW_{i}{j}^(1)" for i in (1, 2, 3) for j in (1, 2, 3)]
    expected += [f"dJ/db_{i}^(1)" for i in (1, 2, 3)]
    expected += [f"dJ/dW_1{j}^(2)" for j in (1, 2, 3)] + ["dJ/db_1^(2)"]
    assert sorted(names) == sorted(expected)
    for _, by_hand, by_indexnet in shown:
        assert float(by_hand) == pytest.approx(float(by_indexnet), abs=1e-12)


def test_own_training_loop(outputs):
    out = outputs["own_training_loop"]
    own, network = number(out, r"own loop NUMBER"), number(out, r"Network NUMBER")
    assert own == pytest.approx(network, rel=1e-14)
    assert number(out, r"Network's gradient\| = NUMBER") < 1e-14
    start = number(out, r"mu = 0.0: J from NUMBER")
    plain, momentum = (
        number(out, r"mu = 0.0: J .* to NUMBER"),
        number(out, r"mu = 0.9: J .* to NUMBER"),
    )
    assert momentum < plain < start and momentum < 0.05


def test_why_rot90(outputs):
    out = outputs["why_rot90"]
    # the index form: r - p backward reaches exactly the outputs that read (r, c) with r + p
    assert "the outputs that read a_15 forward are exactly these: True" in out
    assert len(re.findall(r"is outside the 5x5 map: no term$", out, re.MULTILINE)) == 5
    total = number(out, r"sum of the 4 terms = +NUMBER")
    assert total == pytest.approx(number(out, r"conv_delta at \(1, 5\) += +NUMBER"), abs=1e-12)
    assert number(out, r"\|difference\| = NUMBER") < 1e-12
    shown = re.findall(rf"max \|(.+?)\| = ({NUMBER})$", out, re.MULTILINE)
    equal = [
        "conv_delta - correlate2d(pad(G, 2), rot90(W, 2), 'valid')",
        "conv_delta - convolve2d(G, W, 'full')",
        "conv_delta - autograd's dL/da",
        "z - correlate2d(a, W, 'valid')",
        "z - convolve2d(a, rot90(W, 2), 'valid')",
        "m dW - correlate2d(a, G, 'valid')",
        "m dW - convolve2d(a, rot90(G, 2), 'valid')",
        "conv_delta - sum_k convolve2d(G_k, W_kd, 'full')",
        "conv_delta - autograd's dL/da",  # again, over the random cases
        "conv_weighted_input - b_k - sum_d correlate2d(a_d, W_kd, 'valid')",
        "filter_gradient - mean_n convolve2d(a_d, rot90(G_k, 2), 'valid')",
    ]
    if importlib.util.find_spec("torch") is not None:
        equal.append("conv_delta - PyTorch's dL/da (conv2d)")
    else:
        assert "PyTorch is not installed" in out
    different = [
        "conv_delta - correlate2d(pad(G, 2), W, 'valid')",  # the filter not rotated
        "z - convolve2d(a, W, 'valid')",  # conv2 without UFLDL's flip
    ]
    assert sorted(label for label, _ in shown) == sorted(equal + different)
    for label, value in shown:
        if label in different:
            assert float(value) > 0.1, label
        else:
            assert float(value) < 1e-12, label
    assert "'full' gives a (7, 7) map, the input's shape ('valid' would give (3, 3))" in out
    assert "over 20 random cases" in out
