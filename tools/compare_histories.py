#!/usr/bin/env python3
"""Compares two runs' history.csv (compseg train, demo) epoch by epoch: the training and validation
losses side by side and their relative difference. Exits 1 when any differs by more than
--tolerance relative to the first run's value, or when the epochs differ.

    python3 tools/compare_histories.py RUN_A/history.csv RUN_B/history.csv [--tolerance 1e-3]
"""
import argparse
import csv
import sys


def losses(path):
    with open(path, newline="") as f:
        return [(int(r["epoch"]), float(r["train_loss"]), float(r["val_loss"])) for r in csv.DictReader(f)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()
    a, b = losses(args.a), losses(args.b)
    if [e for e, _, _ in a] != [e for e, _, _ in b]:
        print(f"epochs differ: {[e for e, _, _ in a]} and {[e for e, _, _ in b]}")
        return 1
    worst = 0.0
    print("epoch  train A      train B      val A        val B        largest relative difference")
    for (epoch, ta, va), (_, tb, vb) in zip(a, b):
        d = max(abs(ta - tb) / max(abs(ta), 1e-12), abs(va - vb) / max(abs(va), 1e-12))
        worst = max(worst, d)
        print(f"{epoch:5d}  {ta:.8f}   {tb:.8f}   {va:.8f}   {vb:.8f}   {d:.3g}")
    ok = worst <= args.tolerance
    print(f"{'within' if ok else 'BEYOND'} {args.tolerance}: largest {worst:.3g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
