#!/usr/bin/env python3
"""Who calls a method, from a dotnet-trace speedscope file (sampled thread time).

    python3 bench/callers.py <trace>.speedscope.json System.Threading.Monitor.Enter_Slowpath [more method prefixes…]

For each method (prefix of the frame name without its module), sums the sampled time of its outermost occurrences and
groups it by the nearest 4 callers, skipping async plumbing frames. Standard library only.
"""
import collections
import json
import re
import sys

SKIP = re.compile(r"MoveNext|ExecutionContext|AsyncStateMachineBox|AsyncTaskMethodBuilder|Task\.|TaskAwaiter|ThreadPool|"
                  r"WorkerThread|Thread\.Start|IThreadPoolWorkItem|Dispatch\(|ValueTask|Awaiter|__Canon")


def main(path, targets, top=5):
    data = json.load(open(path))
    names = [re.sub(r"^[^!]*!", "", f["name"]) for f in data["shared"]["frames"]]
    found = {t: collections.Counter() for t in targets}
    for profile in data["profiles"]:
        stack = []
        for event in profile["events"]:
            if event["type"] == "O":
                stack.append((event["frame"], event["at"]))
                continue
            frame, opened = stack.pop()
            for target in targets:
                if names[frame].startswith(target) and not any(names[f].startswith(target) for f, _ in stack):
                    chain = [names[f][:80] for f, _ in reversed(stack) if not SKIP.search(names[f])][:4]
                    found[target][" <- ".join(chain)] += event["at"] - opened
    for target, callers in found.items():
        total = sum(callers.values())
        print(f"-- callers of {target}: {total:.0f} ms sampled")
        for chain, ms in callers.most_common(top):
            print(f"   {100 * ms / total:5.1f}%  {chain}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
