"""Writes N distinct log messages built from the Loghub-2k development sets: each copy of a
message gets fresh random digits, so no line repeats and a miner cannot rely on caching.

    python3 bench/distinct_messages.py 400000 > target/loghub/distinct.txt
"""
import json
import random
import re
import sys

sys.path.insert(0, "../shared/bench")
from loghub_bench import extract_contents, read_lines  # noqa: E402

DATASETS = ["HDFS", "Hadoop", "Spark", "Zookeeper", "HealthApp", "Apache", "OpenSSH", "Android"]


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
    settings = json.load(open("../shared/bench/loghub_settings.json"))["datasets"]
    messages = []
    for name in DATASETS:
        raw = read_lines(f"../shared/loghub/loghub2k/{name}/{name}_2k.log")
        contents, _ = extract_contents(raw, settings[name]["log_format"])
        messages.extend(contents)
    rng = random.Random(7)
    digit = re.compile(r"\d")
    out = sys.stdout
    for i in range(total):
        message = messages[i % len(messages)]
        out.write(digit.sub(lambda _: str(rng.randrange(10)), message))
        out.write("\n")


if __name__ == "__main__":
    main()
