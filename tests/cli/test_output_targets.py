"""Where output goes, for every command: never over a file the run reads or writes twice,
never into a folder by accident, never replacing a device, and a failed write is exit 2
with the path, a hint and no partial file (issue 20, items 3, 4, 9, 10 and 17)."""

import errno
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from cust.cli import output
from cust.cli.main import app
from cust.pipelines.io.inputs import sample_path

runner = CliRunner()
ROOT = typer.main.get_command(app)


def _commands(cmd, path=()):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


# Every command that reads exports and writes --out/--rejects (all but `sample`).
ANALYSES = [
    path for path, cmd in _commands(ROOT)
    if path and (not getattr(cmd, "commands", None) or cmd.invoke_without_command)
    and "rejects" in [p.name for p in cmd.params]
]
IDS = [" ".join(p) for p in ANALYSES]
REPORT = ("report", "weekly")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (symlinks as their target's name) and its bytes."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(folder))] = os.readlink(p).encode()
        elif p.is_file():
            out[str(p.relative_to(folder))] = p.read_bytes()
    return out


def refused(result, *says):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "\nHint: " in result.output
    for text in says:
        assert text in result.output, result.output


def test_the_command_list_is_complete():
    assert len(ANALYSES) == 14
    assert ("clv",) in ANALYSES
    assert ("funnel", "drivers") in ANALYSES
    assert REPORT in ANALYSES
    assert ("promo", "compare") in ANALYSES


# -- item 3: a file the run reads, or writes under another option, is never a target ---------


def _exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir()
    shutil.copy(sample_path("orders"), folder / "orders.csv")
    return folder


CASES = {
    # the default ./cust.toml, as --rejects
    "default config": (["--rejects", "cust.toml"], "would overwrite the config file"),
    # an explicit config reached through "..", as --out (any name: it is TOML inside)
    "explicit config": (["--config", "conf/c.html", "--out", "conf/../conf/c.html"],
                        "would overwrite the config file (conf/c.html)"),
    # a file inside an input directory
    "input directory": (["--orders", "exp", "--rejects", "exp/orders.csv"],
                        "would overwrite the orders input"),
    # a file matched by an input glob, named through a symlink
    "input glob via symlink": (["--orders", "exp/*.csv", "--out", "link.html"],
                               "would overwrite the orders input"),
    # the same file as --out and --rejects
    "out is rejects": (["--out", "r.html", "--rejects", "./sub/../r.html"],
                       "--out r.html and --rejects sub/../r.html name the same file"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("path", ANALYSES, ids=IDS)
def test_no_command_writes_over_a_file_it_reads_or_writes(path, case, tmp_path):
    (tmp_path / "cust.toml").write_text("# settings\n", encoding="utf-8")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.html").write_text("# settings\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "r.html").write_text("keep", encoding="utf-8")
    _exports(tmp_path)
    (tmp_path / "link.html").symlink_to(tmp_path / "exp" / "orders.csv")
    before = snapshot(tmp_path)
    args, says = CASES[case]
    refused(invoke(*path, *args), says)
    assert snapshot(tmp_path) == before


def test_promo_compare_never_writes_over_its_scenarios_file(tmp_path):
    scenarios = tmp_path / "sc.toml"
    scenarios.write_text("[scenarios.a]\nthreshold = 100\nreward_amount = 10\n",
                         encoding="utf-8")
    (tmp_path / "hard.toml").hardlink_to(scenarios)
    before = scenarios.read_bytes()
    for flag, target in (("--out", "sc.toml"), ("--rejects", "hard.toml"),
                         ("--out", str(scenarios))):
        refused(invoke("promo", "compare", "sc.toml", flag, target),
                "would overwrite the scenarios file")
    assert scenarios.read_bytes() == before


def test_report_out_dir_never_writes_over_a_file_read_or_rejects(tmp_path, orders_csv):
    # The edition's name is known once it is computed: 2024-02-01 is in ISO week 2024-W05.
    reports = tmp_path / "reports"
    reports.mkdir()
    name = "weekly-2024-W05.html"
    refused(invoke(*REPORT, "--orders", orders_csv, "--as-of", "2024-02-01",
                   "--out-dir", reports, "--rejects", reports / name),
            f"--out-dir {reports / name} and --rejects {reports / name} name the same file")
    assert list(reports.iterdir()) == []
    (reports / name).write_text("# settings\n", encoding="utf-8")  # a config of that name
    before = snapshot(tmp_path)
    refused(invoke(*REPORT, "--orders", orders_csv, "--as-of", "2024-02-01",
                   "--config", reports / name, "--out-dir", reports),
            "would overwrite the config file")
    assert snapshot(tmp_path) == before


# -- item 4: sample never overwrites without --force; empty paths refused --------------------


def test_sample_refuses_to_overwrite_its_files_without_force(tmp_path):
    shop = tmp_path / "shop"
    args = ["sample", "--out", shop, "--customers", "40", "--days", "30", "-q"]
    assert invoke(*args).exit_code == 0
    files = {"orders.csv", "customers.csv", "events.parquet", "prices.csv"}
    assert {p.name for p in shop.iterdir()} == files  # no scratch folder left
    (shop / "orders.csv").write_text("mine", encoding="utf-8")
    before = snapshot(shop)
    refused(invoke(*args), f"--out {shop} already holds orders.csv, customers.csv, "
            "events.parquet, prices.csv", "add --force")
    assert snapshot(shop) == before
    # Parquet names are other files: one of them present is enough to refuse.
    (tmp_path / "pq").mkdir()
    (tmp_path / "pq" / "prices.parquet").write_text("mine", encoding="utf-8")
    refused(invoke("sample", "--out", tmp_path / "pq", "--parquet", "--customers", "40",
                   "--days", "30", "-q"), "already holds prices.parquet")
    assert (tmp_path / "pq" / "prices.parquet").read_text(encoding="utf-8") == "mine"
    # --force replaces them, with the same bytes as a fresh run of the same seed.
    assert invoke(*args, "--force").exit_code == 0
    assert invoke("sample", "--out", tmp_path / "fresh", *args[3:]).exit_code == 0
    assert snapshot(shop) == snapshot(tmp_path / "fresh")


def test_sample_into_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    refused(invoke("sample", "--out", tmp_path / "f", "-q"), "exists and is not a directory")


# -- item 17: a --format its suffix contradicts; a name ending in / ---------------------------

CONFLICTS = [("json", "x.parquet"), ("csv", "x.json"), ("table", "x.csv"), ("html", "x.csv")]


@pytest.mark.parametrize("path", [p for p in ANALYSES if p != REPORT],
                         ids=[i for p, i in zip(ANALYSES, IDS, strict=True) if p != REPORT])
def test_a_format_that_the_out_suffix_contradicts_is_refused(path, tmp_path):
    for fmt, name in CONFLICTS:
        refused(invoke(*path, "-f", fmt, "--out", name),
                f"--format {fmt} and --out {name} disagree", "drop --format")
    assert list(tmp_path.iterdir()) == []


def test_a_format_with_an_unknown_or_matching_suffix_is_written(tmp_path):
    assert invoke("check", "-f", "json", "--out", "x.txt").exit_code == 0
    assert (tmp_path / "x.txt").read_text(encoding="utf-8").startswith("{")
    assert invoke("check", "-f", "csv", "--out", "X.CSV").exit_code == 0
    assert (tmp_path / "X.CSV").read_text(encoding="utf-8").startswith("source,")


@pytest.mark.parametrize("path", ANALYSES, ids=IDS)
def test_an_out_or_rejects_ending_in_a_slash_is_refused(path, tmp_path):
    # A trailing slash says "a folder"; Path() would drop it and write a file "newdir".
    for flag in ("--out", "--rejects"):
        refused(invoke(*path, flag, "newdir/"), f"{flag} newdir/ ends with '/'",
                f"{flag} newdir/result.csv")
    assert list(tmp_path.iterdir()) == []


# -- item 9: failed writes are exit 2, name the path, leave nothing behind -------------------


def _fail_replace(monkeypatch, code):
    def replace(src, dst):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(output.os, "replace", replace)


FAILURES = {
    # what, how to cause it, what the message says
    "disk full": (lambda mp: _fail_replace(mp, errno.ENOSPC), "No space left on device",
                  "free some space"),
    "read-only folder": (lambda mp: _fail_replace(mp, errno.EROFS), "Read-only file system",
                         "not writable"),
    "permission": (lambda mp: _fail_replace(mp, errno.EACCES), "Permission denied",
                   "not writable"),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("path", ANALYSES, ids=IDS)
def test_a_failed_write_is_exit_2_with_the_path_and_no_partial_file(
        path, failure, tmp_path, monkeypatch, orders_csv):
    cause, says, hint = FAILURES[failure]
    cause(monkeypatch)
    before = snapshot(tmp_path)
    flag, name = ("--rejects", "rej.csv") if failure == "permission" else ("--out", "o.html")
    if path == REPORT:  # it writes the page before the rejects
        flag, name = "--out", "o.html"
    args = ["--orders", orders_csv] if path == REPORT else []  # the small export: quick
    result = invoke(*path, *args, flag, tmp_path / name)
    refused(result, f"could not write {tmp_path / name}: {says}", hint)
    assert snapshot(tmp_path) == before  # neither the file nor its temporary copy


@pytest.mark.parametrize("path", ANALYSES, ids=IDS)
def test_an_out_under_a_file_is_exit_2(path, tmp_path, orders_csv):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    before = snapshot(tmp_path)
    flag, args = ("--out", ["--orders", orders_csv]) if path == REPORT else ("--rejects", [])
    refused(invoke(*path, *args, flag, "afile/r.html"),
            "could not write afile/r.html: a part of its path is a file, not a folder")
    assert snapshot(tmp_path) == before


def test_sample_that_fails_half_way_leaves_no_file(tmp_path, monkeypatch):
    from cust.sample_data import generator

    real = generator._write_table

    def half(frames, path, fmt, float_precision=2):
        path.write_bytes(b"customer_id,regis")  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(generator, "_write_table", half)
    shop = tmp_path / "shop"
    refused(invoke("sample", "--out", shop, "--customers", "40", "--days", "30", "-q"),
            f"could not write {shop}: No space left on device")
    assert list(shop.iterdir()) == []
    monkeypatch.setattr(generator, "_write_table", real)
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    refused(invoke("sample", "--out", "afile/shop", "-q"), "could not write afile/shop")


def cust(*args, stdout):
    return subprocess.run([sys.executable, "-m", "cust", *map(str, args)], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120, check=False)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    ["check", "-f", "json"],  # JSON text
    ["segment", "buckets"],  # a Rich table
    ["cohort", "-f", "csv"],  # CSV
    ["sample", "--out", "shop", "--customers", "40", "--days", "30", "-q"],  # its file list
    [*REPORT, "--as-of", "2024-02-11", "-f", "json", "--out-dir", "r"],  # figures on stdout
], ids=["json", "table", "csv", "sample", "report"])
def test_stdout_on_a_full_device_is_exit_2(args, tmp_path, orders_csv):
    if args[0] != "sample":
        args = [*args, "--orders", orders_csv]
    with open("/dev/full", "w") as full:
        proc = cust(*args, stdout=full)
    assert proc.returncode == 2, proc.stderr
    assert "error: could not write stdout: No space left on device" in proc.stderr
    assert "Hint: free some space" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Exception ignored" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_out_on_a_full_device_is_exit_2():
    for args in (["check", "-f", "csv", "--out"], ["segment", "rfm", "--rejects"]):
        refused(invoke(*args, "/dev/full"), "could not write /dev/full: No space left")


# -- item 10: a device, fifo or link to one is written to, never replaced ---------------------


def _is_char_device(path: str) -> bool:
    return stat.S_ISCHR(os.stat(path).st_mode)


@pytest.mark.parametrize("path", ANALYSES, ids=IDS)
def test_dev_null_and_a_link_to_it_stay_what_they_are(path, tmp_path, orders_csv):
    # As root (as this runs in CI) a rename over /dev/null would succeed and replace it.
    link = tmp_path / "nul.html"
    link.symlink_to(os.devnull)
    args = ["--orders", orders_csv, "--as-of", "2024-02-11"] if path == REPORT else []
    for flag, target in (("--out", link), ("--rejects", os.devnull)):
        result = invoke(*path, *args, flag, target)
        assert result.exit_code in (0, 3), result.output
    assert link.is_symlink()
    assert os.readlink(link) == os.devnull
    assert _is_char_device(os.devnull)
    made = {"weekly-2024-W06.html"} if path == REPORT else set()  # --rejects alone
    assert {p.name for p in tmp_path.iterdir()} == {"nul.html", orders_csv.name, *made}


def test_a_fifo_gets_the_output_and_stays_a_fifo(tmp_path, orders_csv):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = invoke("check", "--orders", orders_csv, "--out", fifo)
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert got[0].decode().startswith("source,files,rows_read,rows_rejected")
    assert b",7,2," in got[0]  # 7 rows read, 2 rejected
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_link_to_a_file_keeps_its_link(tmp_path, orders_csv):
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert invoke("check", "--orders", orders_csv, "--out", link).exit_code == 0
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("{")


def test_dev_stdout_gets_the_output(tmp_path, orders_csv):
    proc = cust("check", "--orders", orders_csv, "-f", "json", "--out", "/dev/stdout",
                stdout=subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr
    assert '"rows_read": 7' in proc.stdout
    assert os.path.islink("/dev/stdout") or _is_char_device("/dev/stdout")


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temp(tmp_path):
    from cust.pipelines.errors import OutputFileError

    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")

    def half(fh):
        fh.write("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputFileError, match=r"could not write .*report.json: No space left"):
        output.write_atomic(target, half)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
