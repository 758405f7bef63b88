"""Errors that stop a run because of its configuration or its models' answers.

A `RunStop` is not a crash and not worth a blind `inkreel resume`: the message names what
went wrong (the agent, the model, the key variable, the file) and what to change. Front ends
print the message and exit 2; nothing already produced is lost.
"""

from __future__ import annotations


class RunStop(Exception):
    """A run that cannot go on as configured; the message says what to change."""


class ConfigurationError(RunStop):
    """A provider set up wrongly: a rejected key, an endpoint that never answers."""


class UnusableAnswer(RunStop):
    """Every model asked for an agent's output answered something the line cannot use."""


class AnswerRejected(Exception):
    """A schema-valid answer that the agent's check rejects; `problems` says why."""

    kind = "invalid_output"

    def __init__(self, model_id: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{model_id}: unusable answer: {'; '.join(problems[:4])}")
