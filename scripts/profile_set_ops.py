#!/usr/bin/env python3
"""Puts the measured op costs of a converted microbench run into a built-in profile.

  build/cpu/cli/tilesim bench --from data/measurements/microbench/<run>.json --out /tmp/m.json
  scripts/profile_set_ops.py data/profiles/h100.json /tmp/m.json <source-id>

Replaces the profile's "ops" with the converted profile's (their "source" renamed to
<source-id>) and adds that source; every other field stays. The profile is rewritten with
the same indentation (2); run the CPU tests afterwards (the loader checks every entry).
"""
import json
import sys


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    profile_path, converted_path, source_id = argv[1:]
    with open(profile_path) as f:
        profile = json.load(f)
    with open(converted_path) as f:
        converted = json.load(f)
    ops = converted.get("ops")
    if not ops:
        sys.exit(f"{converted_path}: no 'ops' (was it converted from a run with the op/ benchmarks?)")
    sources = converted.get("sources", {})
    if len(sources) != 1:
        sys.exit(f"{converted_path}: expected exactly one source, got {len(sources)}")
    (_, source), = sources.items()
    profile.setdefault("sources", {})[source_id] = source
    for op in ops:
        op["source"] = source_id
    profile["ops"] = ops
    with open(profile_path, "w") as f:
        json.dump(profile, f, indent=2)
        f.write("\n")
    print(f"{profile_path}: {len(ops)} op costs from {converted_path} (source {source_id})")


if __name__ == "__main__":
    main(sys.argv)
