"""Count the words of the text given on the command line and write counts.json (the example twin's model)."""

from __future__ import annotations

import argparse
import json
from collections import Counter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-length", type=int, default=1)
    parser.add_argument("words", nargs="*")  # the text arrives word-split: DeltaTwin inserts values unquoted
    args = parser.parse_args()
    counts = Counter(word.lower() for word in args.words if len(word) >= args.min_length)
    with open("counts.json", "w", encoding="utf-8") as out:
        json.dump(dict(sorted(counts.items())), out, indent=2)


if __name__ == "__main__":
    main()
