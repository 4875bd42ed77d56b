"""Run every benchmark in bench/, one after another, and print one table (`make bench`).

Each script prints its own detail and, for each figure the performance issue tracks, one
`ROW|what|figure|target|held` line (common.report_row); the table at the end gathers them in
the order they came, as Markdown, ready for docs/performance.md.
"""

import subprocess
import sys
from pathlib import Path

from common import ROW_PREFIX

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "load.py",
    "pages.py",
    "sessions.py",
    "expire.py",
    "export.py",
    "import_profiles.py",
    "mail_outbox.py",
]


def main() -> int:
    failed = 0
    rows = []
    for script in BENCHMARKS:
        print(f"== {script}", flush=True)
        process = subprocess.Popen(  # noqa: S603 - our own scripts
            [sys.executable, str(HERE / script)], cwd=HERE, stdout=subprocess.PIPE, text=True
        )
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith(ROW_PREFIX):
                rows.append((script, *line.removeprefix(ROW_PREFIX).rstrip("\n").split("|")))
        failed |= process.wait()
    print("\n| what | command | figure | target | held? |\n|---|---|---|---|---|")
    for script, what, figure, target, held in rows:
        print(f"| {what} | `python bench/{script}` | {figure} | {target} | {held} |")
    return failed


if __name__ == "__main__":
    sys.exit(main())
