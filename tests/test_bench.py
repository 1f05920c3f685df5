"""The bench harness and `indexnet bench`: honest rows, agreement checked before timing."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from indexnet.api import bench
from indexnet.cli import cli

SMALL = [((3, 3, 1), 1), ((4, 5, 2), 8)]
FIELDS = {"kernel", "shape", "batch", "backend", "dtype", "threads", "median_s", "iqr_s", "repeats"}


def test_rows_cover_every_backend_and_case():
    rows, notes = bench.run(SMALL, ["loops", "vectorized", "python"], repeat=3, min_time=0.001)
    assert {(tuple(r.shape), r.batch, r.backend) for r in rows} == {
        (s, m, b) for s, m in SMALL for b in ("loops", "vectorized", "python")
    }
    for row in rows:
        assert FIELDS <= set(row.as_dict())
        assert row.median_s > 0 and row.iqr_s >= 0 and row.repeats == 3
        assert row.ratio_to_vectorized == pytest.approx(
            next(
                r.median_s
                for r in rows
                if r.backend == "vectorized" and (r.shape, r.batch) == (row.shape, row.batch)
            )
            / row.median_s
        )
    assert notes == []


@pytest.mark.parametrize("kernel", bench.KERNELS)
def test_every_kernel_can_be_timed_alone(kernel):
    rows, _ = bench.run(
        [((4, 6, 5, 3), 9)], ["loops", "vectorized"], kernel=kernel, repeat=2, min_time=0.0
    )
    assert [r.backend for r in rows] == ["loops", "vectorized"]
    assert all(r.kernel == kernel for r in rows)


def test_float32_rows():
    rows, _ = bench.run(SMALL[:1], ["loops", "vectorized"], dtype=np.float32, repeat=2)
    assert {r.dtype for r in rows} == {"float32"}


def test_python_backend_is_skipped_where_it_would_take_minutes():
    rows, notes = bench.run([((64, 30, 10), 100)], ["python", "vectorized"], repeat=2)
    assert [r.backend for r in rows] == ["vectorized"]
    assert "python skipped" in notes[0]


def test_a_disagreeing_backend_is_an_error_not_a_row(monkeypatch):
    from indexnet.kernels import loops

    real = loops.gradient_step

    def off_by_a_bit(theta, *args):
        J = real(theta, *args)
        theta[0] += 1e-6
        return J

    monkeypatch.setattr(loops, "gradient_step", off_by_a_bit)
    with pytest.raises(bench.BenchDisagreement, match="loops disagrees with vectorized"):
        bench.run(SMALL[:1], ["loops", "vectorized"], repeat=2)


def test_calibration_makes_a_sample_last_min_time():
    calls = []
    per_sample, seconds = bench.calibrate(lambda: calls.append(1), min_time=0.01)
    assert per_sample * seconds >= 0.01  # the calibrating sample lasted min_time
    before = len(calls)
    assert bench.sample(lambda: calls.append(1), per_sample) > 0
    assert len(calls) - before == per_sample


@pytest.fixture
def call_log(monkeypatch):
    """The backend of every timed call the bench makes, in order."""
    log = []
    real_make = bench._make

    def logging_make(case, kernel, backend):
        call, state = real_make(case, kernel, backend)

        def logged():
            log.append(backend)
            return call()

        return logged, state

    monkeypatch.setattr(bench, "_make", logging_make)
    return log


def test_with_one_thread_backends_take_turns_sample_by_sample(call_log):
    bench.run(SMALL[:1], ["loops", "vectorized"], repeat=4, min_time=0.0)
    # min_time 0: one call a sample. After each backend's warm-up, check and calibration, the
    # remaining 3 samples alternate.
    assert call_log[-6:] == ["loops", "vectorized"] * 3


def test_with_threads_numba_backends_take_turns_and_blas_takes_its_samples_in_a_row(call_log):
    backends = ["loops", "vectorized", "loops-parallel"]
    bench.run(SMALL[:1], backends, threads=2, repeat=4, min_time=0.0)
    # The Numba backends are warmed up, checked and calibrated, and alternate for their
    # remaining 3 samples; only then is vectorized measured, all its calls in a row (its BLAS
    # pool spins when idle). (The log starts with the vectorized reference.)
    tail = call_log[call_log.index("loops-parallel") :]
    after_turns = tail.index("vectorized")
    assert tail[after_turns - 6 : after_turns] == ["loops", "loops-parallel"] * 3
    assert set(tail[after_turns:]) == {"vectorized"} and len(tail[after_turns:]) >= 4


def test_machine_names_cpu_blas_and_versions():
    info = bench.machine()
    for key in ("cpu", "cores", "numpy", "numba", "blas", "numba_threads"):
        assert info[key]


def test_cli_json():
    result = CliRunner().invoke(
        cli,
        ["bench", "--sizes", "3,3,1", "--batch", "1,16", "--repeat", "2", "--min-time", "0",
         "--backend", "loops", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"cpu", "blas", "threads_in_effect"} <= set(data["machine"])
    assert [(r["batch"], r["backend"]) for r in data["results"]] == [
        (1, "loops"), (1, "vectorized"), (16, "loops"), (16, "vectorized"),
    ]  # fmt: skip
    assert all(FIELDS <= set(r) for r in data["results"])
    assert data["results"][0]["shape"] == [3, 3, 1]


def test_cli_batch_repeats_like_a_comma_list():
    def batches(*args):
        result = CliRunner().invoke(
            cli,
            ["bench", "--sizes", "3,3,1", *args, "--repeat", "1", "--min-time", "0",
             "--backend", "loops", "--csv"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return [line.split(",")[2] for line in result.stdout.strip().splitlines()[1:]]

    listed = batches("--batch", "1,4")
    assert listed == ["1", "1", "4", "4"]  # loops and vectorized, for each m
    assert batches("--batch", "1", "--batch", "4") == listed
    assert batches("--batch", "1,4", "--batch", "4") == listed


def test_cli_table_and_csv():
    args = ["bench", "--sizes", "3,3,1", "--repeat", "2", "--min-time", "0", "--backend", "loops"]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert "machine:" in table.stdout and "BLAS" in table.stdout
    assert "[3, 3, 1]" in table.stdout and "first call" in table.stdout
    csv = CliRunner().invoke(cli, [*args, "--csv"])
    lines = csv.stdout.strip().splitlines()
    assert lines[0].startswith("kernel,shape,batch,backend")
    assert len(lines) == 3 and lines[1].startswith("step,3x3x1,100,loops")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--kernel", "nope"], "--kernel"),
        (["--sizes", "3,x"], "--sizes"),
        (["--sizes", "3"], "at least 2 layers"),
        (["--batch", "5"], "--batch needs --sizes"),
        (["--backend", "fortran", "--sizes", "3,2"], "--backend"),
        (["--threads", "0"], "--threads"),
        (["--json", "--csv"], "exclusive"),
    ],
)
def test_cli_bad_options(args, message):
    result = CliRunner().invoke(cli, ["bench", *args])
    assert result.exit_code == 2 or result.exit_code == 1
    assert message in result.output


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "bench.png"
    result = CliRunner().invoke(
        cli,
        ["bench", "--sizes", "3,3,1", "--batch", "1,32", "--repeat", "2", "--min-time", "0",
         "--backend", "loops", "--plot", str(path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_with_threads_each_parallel_kernel_is_timed_against_the_serial_one(two_threads):
    args = ["bench", "--threads", "2", "--sizes", "6,5,4", "--sizes", "9,8,7", "--batch", "12",
            "--backend", "loops", "--backend", "loops-parallel", "--repeat", "1",
            "--min-time", "0", "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["results"]
    alone = [(r["kernel"], r["backend"], r["shape"]) for r in rows if r["kernel"] != "step"]
    assert alone == [
        (kernel, backend, [9, 8, 7])  # the suite's largest shape
        for kernel in bench.PARALLEL_KERNELS
        for backend in ("loops", "loops-parallel")
    ]
    table = CliRunner().invoke(cli, args[:-1])
    assert "each kernel alone, [9, 8, 7] m=12" in table.stdout
    assert all(f"{kernel}  " in table.stdout for kernel in bench.PARALLEL_KERNELS)
