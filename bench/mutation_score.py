"""`make mutation`: mutmut over ppas/domain against tests/domain, one module at a time, then a score table.

    python bench/mutation_score.py [--modules periods,file_names] [--max-children 2] [--report-only]

mutmut (configured in pyproject.toml, [tool.mutmut]) copies the package into mutants/ and
records an exit code per mutant in mutants/ppas/domain/<module>.py.meta. This script runs
mutmut for each module in turn (the machine is shared: never all modules in parallel), then
reads those records and bench/mutation_equivalents.txt, and prints per module: mutants,
killed, survived, equivalent, score = killed / (killed + survived).

* killed: a test failed (timeouts count as killed: the mutant made a test loop);
* survived: every test passed, or no test of tests/domain reaches the mutated function;
* equivalent: a survivor listed in bench/mutation_equivalents.txt, with why no test can tell
  it from the original; it counts neither for nor against the score. A listed mutant that
  no longer survives (killed, or renamed because its function changed) is reported so the
  list is kept honest.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "ppas" / "domain"
META = ROOT / "mutants" / "ppas" / "domain"
EQUIVALENTS = ROOT / "bench" / "mutation_equivalents.txt"

# mutmut's exit codes (mutmut/stats.py): 1 and 3 a test failed, 36/24/152/255/-24 timeout,
# 0 survived, 33/5 no test reaches the function, None not run yet.
KILLED = {1, 3, 36, 24, -24, 152, 255, 37, -11, -9}
SURVIVED = {0, 5, 33}


@dataclass
class Score:
    module: str
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    other: int = 0  # not run, suspicious, skipped
    survivors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.equivalent + self.other

    @property
    def score(self) -> float | None:
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else None


def domain_modules() -> list[str]:
    return sorted(p.stem for p in DOMAIN.glob("*.py") if p.stem != "__init__")


def read_equivalents() -> dict[str, str]:
    """`mutant name | why` per line; `#` starts a comment line."""
    equivalents: dict[str, str] = {}
    if not EQUIVALENTS.exists():
        return equivalents
    for raw in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, why = line.partition("|")
        if not why.strip():
            sys.exit(f"{EQUIVALENTS.name}: « {name.strip()} » is listed without saying why")
        equivalents[name.strip()] = why.strip()
    return equivalents


def run_mutmut(module: str, max_children: int) -> None:
    print(f"--- mutmut: ppas/domain/{module}.py", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", f"ppas.domain.{module}.*",
         "--max-children", str(max_children)],
        cwd=ROOT, capture_output=True, text=True,
    )
    if result.returncode != 0 and "nothing matches" in result.stdout + result.stderr:
        return  # a module with nothing to mutate (e.g. a single f-string): nothing to run
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        sys.exit(f"mutmut failed on {module} (exit {result.returncode})")


def score_module(module: str, equivalents: dict[str, str]) -> Score:
    score = Score(module)
    meta = META / f"{module}.py.meta"
    if not meta.exists():
        score.other = -1
        return score
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    for name, code in codes.items():
        if code in SURVIVED:
            if name in equivalents:
                score.equivalent += 1
            else:
                score.survived += 1
                score.survivors.append(name)
        elif code in KILLED:
            score.killed += 1
        else:
            score.other += 1
    return score


def print_table(scores: list[Score]) -> None:
    header = f"{'module':<24}{'mutants':>8}{'killed':>8}{'survived':>10}{'equiv.':>8}{'score':>9}"
    print(header)
    print("-" * len(header))
    overall = Score("overall")
    for s in scores:
        if s.other == -1:
            print(f"{s.module:<24}{'not run':>8}")
            continue
        pct = f"{s.score:.1f} %" if s.score is not None else "—"
        note = f"  ({s.other} not run)" if s.other else ""
        print(f"{s.module:<24}{s.total:>8}{s.killed:>8}{s.survived:>10}{s.equivalent:>8}{pct:>9}{note}")
        overall.killed += s.killed
        overall.survived += s.survived
        overall.equivalent += s.equivalent
        overall.other += s.other
    print("-" * len(header))
    pct = f"{overall.score:.1f} %" if overall.score is not None else "—"
    print(f"{'overall':<24}{overall.total:>8}{overall.killed:>8}{overall.survived:>10}"
          f"{overall.equivalent:>8}{pct:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default="", help="comma-separated module names (default: all)")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run")
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = parser.parse_args()

    modules = [m.strip() for m in args.modules.split(",") if m.strip()] or domain_modules()
    unknown = sorted(set(modules) - set(domain_modules()))
    if unknown:
        sys.exit(f"no such module in ppas/domain: {', '.join(unknown)}")
    if not args.report_only:
        for module in modules:
            run_mutmut(module, args.max_children)

    equivalents = read_equivalents()
    scores = [score_module(m, equivalents) for m in modules]
    print()
    print_table(scores)

    # Keep the equivalents list honest: every entry must still name a surviving mutant.
    seen = set()
    for module in modules:
        meta = META / f"{module}.py.meta"
        if meta.exists():
            seen |= {n for n, c in json.loads(meta.read_text())["exit_code_by_key"].items()
                     if c in SURVIVED}
    stale = [n for n in equivalents if n.split(".")[2] in modules and n not in seen]
    if stale:
        print("\nListed as equivalent but not a survivor any more (remove or re-check):")
        print("\n".join(f"  {n}" for n in stale))
    if args.survivors:
        print("\nSurvivors (`.venv/bin/mutmut show NAME` prints the change):")
        for s in scores:
            print("\n".join(f"  {n}" for n in s.survivors))


if __name__ == "__main__":
    main()
