"""What `diana import twee` costs on a long story: the median time to convert a generated
SugarCube story (passages with links, `<<set>>`, `<<if>>` around text and links, a
StoryInit) into the files of a Diana project, and the time `diana lint` then takes on
them.

Run: python bench/import_bench.py [--passages N] [--runs R] [--against GIT_REF]

`--passages` defaults to 2,000. Each figure is the median of R runs (default 5) in a
subprocess that imports the engine of this tree; `--against REF` also runs the engine as
committed at REF (`git archive` into a temporary directory) on the same story, alternating
with this tree in the same run, and prints the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def story(passages: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    parts = [':: StoryTitle\nBench\n', ':: StoryData\n{"format": "SugarCube", "start": "P0"}\n',
             ":: StoryInit\n<<set $gold to 3>><<set $key to false>>\n"]
    for i in range(passages):
        links = "\n".join(f"[[Go on {j}->P{j}]]" for j in rng.sample(range(passages), 3))
        parts.append(
            f":: P{i} [t{i % 7}]\nRoom {i} is quiet. You have $gold coins.\n"
            f"<<if $gold gt {i % 5}>>You feel rich.<<else>>You feel poor.<</if>>\n"
            f"<<set $gold += 1>>\n<<if $key>>[[Secret->P{(i * 7) % passages}]]<</if>>\n"
            f"<<if $gold gte 9>><<set $key to true>><</if>>\n{links}\n")
    return "\n".join(parts)


def measure(source: Path) -> dict[str, float]:
    """One run in this process: import, write, load and lint. Imports come from sys.path,
    so the caller picks the engine."""
    from engine.lint import lint
    from engine.load import load
    from engine.twee import import_twee

    text = source.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    files, _ = import_twee([(source.name, text)])
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for rel, body in files.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        t2 = time.perf_counter()
        found = lint(load(Path(tmp)))
        t3 = time.perf_counter()
    errors = sum(1 for d in found if d.severity.value == "error")
    return {"import": t1 - t0, "lint": t3 - t2, "errors": errors}


def _run(engine_dir: Path, source: Path) -> dict[str, float]:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[3]);"
            " import import_bench; print(json.dumps(import_bench.measure("
            "__import__('pathlib').Path(sys.argv[2]))))")
    out = subprocess.run([sys.executable, "-c", code, str(engine_dir), str(source),
                          str(REPO / "bench")], check=True, capture_output=True, text=True,
                         cwd=engine_dir)
    return json.loads(out.stdout)


def _archive(ref: str, into: Path) -> Path:
    raw = subprocess.run(["git", "archive", ref], cwd=REPO, check=True,
                         capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(raw)) as tar:
        tar.extractall(into, filter="data")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", metavar="GIT_REF")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bench.twee"
        source.write_text(story(args.passages), encoding="utf-8")
        engines = {"this tree": REPO}
        if args.against:
            engines[args.against] = _archive(args.against, Path(tmp) / "against")
        got: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
        for _ in range(args.runs):
            for name, where in engines.items():
                got[name].append(_run(where, source))
        print(f"{args.passages:,} passages ({source.stat().st_size:,} bytes), median of"
              f" {args.runs} runs")
        medians = {}
        for name, runs in got.items():
            imp = statistics.median(r["import"] for r in runs)
            lnt = statistics.median(r["lint"] for r in runs)
            medians[name] = imp
            print(f"  {name:<12} import {imp:7.3f} s (min {min(r['import'] for r in runs):.3f},"
                  f" max {max(r['import'] for r in runs):.3f})   lint of the result {lnt:6.3f} s"
                  f"   lint errors {runs[0]['errors']:g}")
        if args.against:
            print(f"  ratio {args.against} / this tree: "
                  f"{medians[args.against] / medians['this tree']:.2f}x")


if __name__ == "__main__":
    main()
