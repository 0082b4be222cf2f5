#!/usr/bin/env python3
"""Per-connection live heap growth by type from two `dotnet-gcdump report` outputs (before, held): bench/heap."""
import re
import sys

ROW = re.compile(r"^\s*([\d,]+)\s+([\d,]+)\s+(.+?)\s*$")


def load(path):
    types = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line)
            if m:
                size, count, name = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), m.group(3)
                # gcdump names a type with its assembly in brackets: keep the type only
                name = re.sub(r"\s*\[[^\]]*\]$", "", name)
                # the report's byte column is the size of one object of the type (the average for a size bucket)
                s, c = types.get(name, (0, 0))
                types[name] = (s + size * count, c + count)
    return types


def main():
    before, held, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    rows = []
    for name, (size, count) in held.items():
        s0, c0 = before.get(name, (0, 0))
        rows.append((size - s0, count - c0, name))
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    print(f"{'B/conn':>8} {'objs/conn':>9}  type   (total growth {total / n:.0f} B per connection)")
    for size, count, name in rows[:top]:
        print(f"{size / n:8.0f} {count / n:9.2f}  {name}")


main()
