"""Instructions per request of one page, counted by valgrind's callgrind: the same count
however busy the machine is, so a change can be compared with the code before it exactly,
where times on a shared 2-core machine move by a third from one minute to the next.

    python -m bench.instructions /today --as rep
    python -m bench.instructions log_dm --as manager -n 20

It runs in-process (Flask test client, as bench.explain) on a fresh copy of the generated
database, makes 5 requests to warm up, then counts the instructions of the next N (the
whole process: Python, SQLite and the rest). Needs valgrind (Debian package `valgrind`).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import forms

WARM_UP = 5
INNER = "RAPPORT_INSTRUCTIONS_INNER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("page", help="a path such as /inbox, or a POST builder: "
                        + ", ".join(forms.BUILDERS))
    parser.add_argument("--as", dest="role", choices=("rep", "manager"), default="rep")
    parser.add_argument("-n", type=int, default=10, help="requests counted (after 5 warm-up)")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if os.environ.get(INNER):
        _requests(args)
        return
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    from bench import dataset

    dataset.ensure(dataset.Sizes.scaled(args.contacts), args.seed)   # generate outside valgrind
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}", sys.executable, "-m", "bench.instructions",
             *sys.argv[1:]], env={**os.environ, INNER: "1"}, capture_output=True, text=True)
        totals = [line.split()[1] for line in out.read_text().splitlines()
                  if line.startswith("totals:")] if out.exists() else []
        if run.returncode or not totals:
            sys.exit(f"callgrind failed:\n{run.stderr[-2000:]}")
    print(f"{args.page} as {args.role}: {int(totals[0]) / args.n / 1e6:.2f} M instructions "
          f"per request ({args.n} requests; {run.stdout.strip()})")


def _requests(args) -> None:
    """Under valgrind: instrument only the counted requests."""
    from bench.explain import prepare

    target = prepare(args.page, args.role, args.contacts, args.seed, fresh=True)
    for n in range(WARM_UP):
        target.send(n)
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=True)
    for n in range(WARM_UP, WARM_UP + args.n):
        resp = target.send(n)
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=True)
    print(f"last: HTTP {resp.status_code}, {len(resp.data):,} bytes")


if __name__ == "__main__":
    main()
