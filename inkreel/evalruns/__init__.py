"""Evaluation runs: the line over a dataset of stories under several configurations, scored
per agent (`results.jsonl`), compared in a static report, exported in benchmark layouts."""
