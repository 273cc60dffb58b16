"""``voc tag`` as analysts run it: a real process, really killed, resumed to the same bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlp.cli import app
from nlp.io.checkpoint import parts_folder

ROWS = 120  # 20 parts: small enough for a few seconds of tagging, plenty of points to kill at
CHUNK = 6
BLANK_EVERY = 40
runner = CliRunner()


def write_export(path: Path) -> Path:
    lines = ["response_id,channel,comment"]
    for number in range(1, ROWS + 1):
        comment = "   " if number % BLANK_EVERY == 0 else f'"Order {number}, late — ça va.\nOk."'
        lines.append(f"R{number:04d},{'email' if number % 2 else 'app'},{comment}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tag_command(source: Path, output: Path, *extra: str) -> list[str]:
    return [
        *(sys.executable, "-m", "nlp.cli", "tag", str(source), "-o", str(output)),
        *("--text-col", "comment", "--id-col", "response_id", "--chunk-size", str(CHUNK), "--tasks", "sentiment"),
        *extra,
    ]


def environment() -> dict[str, str]:
    return os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def done_parts(output: Path) -> int:
    return len(list(parts_folder(output).glob("part-*.errors.csv")))


def kill_when_parts_exist(command: list[str], output: Path, parts: int, timeout: float = 300) -> None:
    """Start the command, SIGKILL it as soon as ``parts`` chunk parts are on disk."""
    process = subprocess.Popen(command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while done_parts(output) < parts:
        if process.poll() is not None:
            pytest.fail(
                f"voc tag ended (rc {process.returncode}) before {parts} parts: {process.stderr.read()[-2000:]}"
            )
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {parts} parts within {timeout} s")
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL


def run_to_end(command: list[str]) -> None:
    finished = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]


@pytest.mark.slow
@pytest.mark.encoder
def test_killed_runs_resume_to_the_bytes_of_an_uninterrupted_run(tmp_path: Path) -> None:
    source = write_export(tmp_path / "export.csv")
    whole, resumed = tmp_path / "whole.csv", tmp_path / "resumed.csv"
    run_to_end(tag_command(source, whole))

    kill_when_parts_exist(tag_command(source, resumed), resumed, parts=1)
    assert not resumed.exists()
    kill_when_parts_exist(tag_command(source, resumed, "--resume"), resumed, parts=3)
    assert done_parts(resumed) < ROWS // CHUNK, "the run finished before it could be killed"
    run_to_end(tag_command(source, resumed, "--resume"))

    assert resumed.read_bytes() == whole.read_bytes()
    errors = Path(f"{resumed}.errors.csv")
    assert errors.read_bytes() == Path(f"{whole}.errors.csv").read_bytes()
    assert errors.read_text(encoding="utf-8-sig").count("empty_text") == ROWS // BLANK_EVERY
    assert not parts_folder(resumed).exists()


def test_a_missing_column_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    source = write_export(tmp_path / "export.csv")
    outcome = runner.invoke(app, ["tag", str(source), "-o", str(tmp_path / "out.csv"), "--text-col", "text"])
    assert outcome.exit_code == 2
    assert "no column(s) ['text']" in outcome.output


def test_an_interrupted_run_is_not_overwritten_without_resume(tmp_path: Path) -> None:
    source = write_export(tmp_path / "export.csv")
    parts_folder(tmp_path / "out.csv").mkdir()
    outcome = runner.invoke(app, ["tag", str(source), "-o", str(tmp_path / "out.csv"), "--text-col", "comment"])
    assert outcome.exit_code == 2
    assert "--resume" in outcome.output
