"""python3 -m fizzbuzz LIMIT"""

import sys

from fizzbuzz.core import sequence


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python3 -m fizzbuzz LIMIT", file=sys.stderr)
        return 2
    for line in sequence(int(argv[0])):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
