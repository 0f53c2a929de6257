"""`python -m bench.dataset --contacts N [--seed S] [--database-url URL]`."""
import argparse
import json
import os

from bench.dataset import Sizes, ensure


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate (or reuse) the benchmark dataset.")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--deals", type=int)
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="PostgreSQL on 127.0.0.1 (default: a SQLite file in bench/data/)")
    args = parser.parse_args()
    sizes = Sizes.scaled(args.contacts, args.messages, args.deals, args.tasks)
    url, meta = ensure(sizes, args.seed, args.database_url)
    print(json.dumps({"url": url, **meta}, indent=2))


if __name__ == "__main__":
    main()
