"""Count what the public kernels do with arrays that do not fit one another.

Each array argument of each public kernel of ``loops``, ``loops_parallel`` and ``vectorized``
is shrunk by one along each axis in turn, the other arguments left valid (the cases of
tests/test_kernel_shapes.py). A kernel may return (silently, which for a shape it cannot
accept is a lie), crash the interpreter, raise something other than ValueError/TypeError, or
refuse with one, naming the argument or not. Cases run in a child interpreter that is
restarted after a crash.

    python tools/kernel_shape_sweep.py            # the indexnet on sys.path
    PYTHONPATH=/path/to/old/checkout python tools/kernel_shape_sweep.py
"""

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
CHILD = r"""
import importlib.util, json, re, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import indexnet
if not (Path(indexnet.__file__).parent / "shapes.py").exists():
    # An indexnet from before the shape checks: the argument lists come from this tree's.
    spec = importlib.util.spec_from_file_location(
        "indexnet.checks.shapes", Path(sys.argv[1]).parent / "indexnet" / "shapes.py")
    sys.modules["indexnet.checks.shapes"] = module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    indexnet.checks.shapes = module
import test_kernel_shapes as t
cases = list(t.sweep_cases())
for index in range(int(sys.argv[2]), len(cases)):
    module, kernel, name, arguments = cases[index]
    outcome = t.call(module, kernel, arguments)
    outcome["case"] = [module, kernel, name]
    print(json.dumps(outcome), flush=True)
"""


def main() -> None:
    outcomes, start = [], 0
    while True:
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(TESTS), str(start)], capture_output=True, text=True
        )
        lines = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
        outcomes += lines
        start += len(lines)
        if child.returncode == 0:
            break
        outcomes.append({"crash": f"exit {child.returncode}", "case": None})
        start += 1
    composites = {"forward", "backward", "cost_and_gradient", "gradient_step", "sgd_epochs"}
    counts = {"equation kernels": Counter(), "composites": Counter()}
    for outcome in outcomes:
        case = outcome["case"]
        group = counts["composites" if case and case[1] in composites else "equation kernels"]
        group["cases"] += 1
        if "returned" in outcome:
            group["returned silently"] += 1
        elif "crash" in outcome:
            group["crashed or raised another error"] += 1
        else:
            group["refused"] += 1
            if outcome["message"].startswith(f"{case[1]}: {case[2]} ") or re.search(
                rf"from (\w+ and )?{re.escape(case[2])}\b|\b{re.escape(case[2])}\.shape",
                outcome["message"],
            ):
                group["refused, naming the argument"] += 1
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
