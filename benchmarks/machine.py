"""What the machine gives a benchmark right now: how many cores' worth of CPU two processes get at once.

The machines these benchmarks run on are virtual and shared: `nproc` says 2, the load average shows only this machine's
own processes, and steal time is not reported, yet on some days two busy processes each run at half speed (the host's
cores are taken by others). Threads and Arrow's thread pool then buy nothing, and a figure of such a day is not
comparable with one of a free day. `parallel_capacity()` measures it: the same pure-Python loop run alone, then twice at
once; capacity = 2 x (time alone) / (time of the pair): about 2.0 when both cores are ours, about 1.0 when together we
get one. Benchmarks print it beside their figures, before and after their rounds.
Run alone: .venv/bin/python benchmarks/machine.py
"""
import subprocess
import sys
import time

_BURN = "s = 0\nfor i in range({n}): s += i\n"

def _wall(k: int, n: int) -> float:
    "Wall seconds of `k` copies of the loop started together (fresh interpreters, no imports)."
    t = time.perf_counter()
    ps = [subprocess.Popen([sys.executable, "-S", "-c", _BURN.format(n=n)]) for _ in range(k)]
    for p in ps: p.wait()
    return time.perf_counter() - t

def parallel_capacity(n: int = 4_000_000, rounds: int = 3) -> float:
    """Cores' worth of CPU two processes get together now, rounded to 0.1: the loop alone and as a pair, interleaved
    `rounds` times; the fastest of each (a pause of the machine only ever slows a run down)."""
    one, two = [], []
    for _ in range(rounds):
        one.append(_wall(1, n)); two.append(_wall(2, n))
    return round(2 * min(one) / min(two), 1)

if __name__ == "__main__":
    print(f"parallel capacity: {parallel_capacity()} cores (2 processes; 2.0 = both cores free)")
