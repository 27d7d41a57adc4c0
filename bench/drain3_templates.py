"""drain3 as a `templates` filter, for side-by-side benchmarks with `faultline templates`.

Reads one message per line on stdin and writes one template per line, in order, using drain3's
default (untuned) configuration. Needs `pip install drain3==0.9.11`.
"""
import sys

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig


def main() -> None:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    ids = []
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        ids.append(miner.add_log_message(line)["cluster_id"])
    # Templates can still change while messages arrive; print each message's final template.
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    out = sys.stdout
    for cluster_id in ids:
        out.write(templates[cluster_id])
        out.write("\n")


if __name__ == "__main__":
    main()
