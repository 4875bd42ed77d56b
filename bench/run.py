"""Run every benchmark in bench/, one after another (`make bench`)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["pages.py", "expire.py", "mail_outbox.py", "import_profiles.py", "load.py"]


def main() -> int:
    failed = 0
    for script in BENCHMARKS:
        print(f"== {script}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script)], cwd=HERE)  # noqa: S603 - our own scripts
    return failed


if __name__ == "__main__":
    sys.exit(main())
