"""Every script in examples/ is also a notebook: jupytext percent cells (``# %%``), the math in
Markdown cells. Read as one, each has Markdown with math and code; executed as one by nbclient in
a Jupyter kernel at --quick size (``INDEXNET_QUICK=1``, a kernel has no command line), it prints
what ``python examples/NAME.py --quick`` prints.

The scripts and the notebooks all run at the same time, in their own processes, once for the
module. The kernel is this interpreter (``sys.executable``), from a kernelspec written to a
temporary folder: whatever else is installed as "python3" is not used.
"""

from __future__ import annotations

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
