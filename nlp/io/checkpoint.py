"""Crash-safe progress of a tagging run: atomic part files plus a manifest of completed parts.

Layout next to the output ``OUT``::

    OUT.parts/manifest.json          what run this is (input fingerprint, options) and which parts are done
    OUT.parts/part-000000.<suffix>   tagged rows of chunk 0, in the output format's part form
    OUT.parts/part-000000.errors.csv rows of chunk 0 with an error

A part is written to a temporary name and renamed into place, then the manifest is rewritten the
same way, so a kill at any instant leaves either a complete part or none; a part written but not
yet in the manifest is simply redone.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
TMP_SUFFIX = ".tmp"


class ResumeError(Exception):
    """An interrupted run cannot be continued (or must not be overwritten) as asked."""


@dataclass
class PartStats:
    rows: int
    tagged: int
    errors: dict[str, int] = field(default_factory=dict)  # error code -> rows
    unparseable_dates: int = 0


def parts_folder(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` fills a temporary file that then replaces ``path`` in one step, synced to disk."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    write(tmp)
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def input_fingerprint(path: Path) -> dict[str, Any]:
    """Path, size and modification time; for a folder of shards, those of every file in it."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        return {"path": str(path.resolve()), "files": [[p.name, *_size_and_time(p)] for p in files]}
    size, mtime_ns = _size_and_time(path)
    return {"path": str(path.resolve()), "size": size, "mtime_ns": mtime_ns}


def _size_and_time(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def refuse_fresh_start(output: Path, resume: bool) -> None:
    """An existing parts folder is an interrupted run: never overwrite it without ``--resume``."""
    folder = parts_folder(output)
    if folder.exists() and not resume:
        raise ResumeError(
            f"{folder} holds an interrupted run: add --resume to continue it, or delete that folder to start over"
        )


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def _differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    before, now = _flatten(recorded), _flatten(current)
    return [
        f"{key}: {before.get(key)!r} -> {now.get(key)!r}"
        for key in sorted(before | now)
        if before.get(key) != now.get(key)
    ]


@dataclass
class Checkpoint:
    folder: Path
    identity: dict[str, Any]  # {"input": fingerprint, "options": everything that changes the output}
    part_suffix: str
    completed: dict[int, PartStats] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path, identity: dict[str, Any], part_suffix: str) -> Checkpoint:
        """Continue the run recorded in ``folder`` if it is the same run, or start a new one there."""
        # Compared with what the manifest recorded, so in its JSON form (tuples become lists).
        checkpoint = cls(folder, json.loads(json.dumps(identity)), part_suffix)
        manifest = folder / MANIFEST
        if manifest.exists():
            checkpoint.completed = checkpoint._recorded_parts(json.loads(manifest.read_text(encoding="utf-8")))
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"*{TMP_SUFFIX}"):  # left by a kill in the middle of a write
            stale.unlink()
        checkpoint._save()
        return checkpoint

    def _recorded_parts(self, recorded: dict[str, Any]) -> dict[int, PartStats]:
        if recorded.get("version") != MANIFEST_VERSION:
            raise ResumeError(f"{self.folder} was written by another version of voc; delete it to start over")
        changes = _differences(recorded["identity"], self.identity)
        if changes:
            raise ResumeError(
                f"cannot resume {self.folder}: the input or options differ from the interrupted run "
                f"({'; '.join(changes)}); rerun with the same input and options, or delete the folder to start over"
            )
        parts = {int(index): PartStats(**stats) for index, stats in recorded["completed"].items()}
        return {index: stats for index, stats in parts.items() if self._files_exist(index)}

    def _files_exist(self, index: int) -> bool:
        return self.part_path(index).exists() and self.errors_path(index).exists()

    def part_path(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}.{self.part_suffix}"

    def errors_path(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}.errors.csv"

    def record(self, index: int, stats: PartStats) -> None:
        """Mark a chunk done; call only after both of its part files are in place."""
        self.completed[index] = stats
        self._save()

    def _save(self) -> None:
        manifest = {
            "version": MANIFEST_VERSION,
            "identity": self.identity,
            "completed": {str(index): asdict(stats) for index, stats in sorted(self.completed.items())},
        }
        text = json.dumps(manifest, indent=1, sort_keys=True)
        atomic_write(self.folder / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def remove(self) -> None:
        shutil.rmtree(self.folder)
