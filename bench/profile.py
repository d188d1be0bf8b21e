"""Profile one `newsmon run` cycle over generated feeds on loopback with pyinstrument -> bench/profile.txt.

    python -m bench.profile [--feeds 200] [--items 100]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from pyinstrument import Profiler

from bench.run import serve_generated
from pipeline.core.config import Settings
from pipeline.ingest.cycle import run_cycle

OUT = Path(__file__).resolve().parent / "profile.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsmon-profile-"))
    server, feeds_file = serve_generated(work, args.feeds, args.items, seed=21)
    # One process, so the profile sees every stage (`newsmon run` would fan batches out to processes).
    settings = Settings(home=work / "home", feeds_file=feeds_file, allow_private_networks=True, run_workers=1)
    profiler = Profiler(interval=0.005)
    try:
        profiler.start()
        counts = run_cycle(settings)
        profiler.stop()
    finally:
        server.__exit__(None, None, None)
    OUT.write_text(f"# newsmon run, {args.feeds} feeds x {args.items} items: {counts}\n"
                   + profiler.output_text(unicode=False, color=False))
    print(f"profile -> {OUT}")


if __name__ == "__main__":
    main()
