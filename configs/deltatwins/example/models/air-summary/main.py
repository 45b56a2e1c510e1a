"""Summarise one stored air-quality snapshot (the data-space collector's JSON) into summary.json."""

from __future__ import annotations

import argparse
import json
from statistics import mean


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readings", required=True, help="the collector's JSON snapshot")
    parser.add_argument("--pollutant", default="pm25")
    args = parser.parse_args()
    with open(args.readings, encoding="utf-8") as handle:
        snapshot = json.load(handle)
    values = [reading[args.pollutant] for reading in snapshot["readings"]]
    summary = {
        "time": snapshot["time"],
        "city": snapshot["city"],
        "pollutant": args.pollutant,
        "stations": len(values),
        "mean": round(mean(values), 3),
        "max": max(values),
    }
    with open("summary.json", "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=2)
    print(f"{summary['city']}: mean {args.pollutant} {summary['mean']} over {len(values)} stations")


if __name__ == "__main__":
    main()
