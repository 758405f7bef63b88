"""A text model that answers every structured request with a random instance of its schema.

`RandomAnswers(seed)` is an answer function for `tests/fake_openai.FakeOpenAI`:

    with FakeOpenAI(answer=RandomAnswers(seed=3)) as server:
        ...  # every chat request with a tool or a json_schema response_format gets a random,
        ...  # schema-valid instance of that schema

The instance is drawn by `hypothesis-jsonschema` (`from_schema`) from the JSON schema the
request carries (the forced tool's `function.parameters`, or `response_format.json_schema.
schema`), bounded so episodes stay short (arrays and maps of at most MAX_ITEMS entries,
strings of at most MAX_CHARS characters, objects with no keys beyond their `properties`, as
strict structured outputs have them). It answers the way an unimaginative model would:
string fields that hold a name (a character, speaker, addressee, subject, location ...) get
names found in the prompt (capitalised words of its text, names in its JSON-tagged sections)
and map keys get ids from the prompt or the field's description; one time in NAME_MISS they
keep the random text instead. Enums, numbers, booleans and everything else are random within
the schema.

Seeding. Each answer is a function of (seed, schema name, the request's non-system messages,
how many times that same request was asked before). That key gives an integer that seeds
Hypothesis through its public API (`@seed` on an inner `@given` test run for DRAWS examples,
generate phase only, no database) and a `random.Random` for the example picked and the names.
So a request gets the same answer in every run with the same seed, whatever order concurrent
requests arrive in, and a repeated request (a retry) gets a fresh one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

MAX_ITEMS = 6  # arrays and maps: 0-6 entries (or the schema's minimum, when it asks for more)
MAX_CHARS = 40  # strings without a maxLength
DRAWS = 6  # examples Hypothesis generates per answer (the first is its simplest, never used)
NAME_MISS = 8  # 1 in NAME_MISS name fields keep their random text

# Fields (object property names) whose strings, or lists of strings, name a character.
CHARACTER_FIELDS = frozenset(
    {
        "character",
        "characters",
        "speaker",
        "addressee",
        "subject",
        "subjects",
        "enters",
        "exits",
        "moves",
        "dies",
        "cast",
        "must_show",
        "who",
    }
)
# Fields that name a place.
PLACE_FIELDS = frozenset({"location", "locations", "set", "place"})
# Fields that name whatever the request is about (the designer's `name`).
NAME_FIELDS = frozenset({"name", "title"})
# Maps whose keys are character names.
CHARACTER_MAPS = frozenset({"wardrobe", "positions", "voices", "cast"})
# Fields whose values are ids listed in the prompt (a voice variant, a language).
ID_FIELDS = frozenset({"variant", "language", "voice"})

STOPWORDS = frozenset(
    "A An And As At But By For From He Her His I If In Into It Its No Not Of On Or She So The "
    "Their Then There They This To Up We When Where While Who With You INT EXT CONTINUOUS SAME "
    "DAY NIGHT DUSK".split()
)
_CAPITALISED = re.compile(r"\b[A-Z][a-zA-Z'-]{1,24}\b")
_TAG = re.compile(r"<([a-z_]+)>\n?(.*?)\n?</\1>", re.S)
_WORD = re.compile(r"\b[a-z][a-z_]{1,15}\b")
_QUOTED = re.compile(r"'([\w-]{1,20})'")

_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_lock = threading.Lock()  # Hypothesis runs one test at a time; the server has many threads
_strategies: dict[str, st.SearchStrategy[Any]] = {}


def request_schema(request_json: dict[str, Any], schema_name: str) -> dict[str, Any]:
    """The JSON schema a chat request asks for: its tool's parameters or its response format."""
    for tool in request_json.get("tools") or []:
        function = tool.get("function") or {}
        if function.get("name") == schema_name:
            return dict(function.get("parameters") or {})
    fmt = request_json.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return dict(fmt["json_schema"]["schema"])
    raise ValueError(f"the request carries no schema named {schema_name!r}")


def prompt_text(request_json: dict[str, Any]) -> str:
    """The text of the request's non-system messages (what the model is asked)."""
    parts = []
    for m in request_json.get("messages", []):
        if m.get("role") == "system":
            continue
        content = m.get("content")
        if isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
        elif content is not None:
            parts.append(str(content))
        for call in m.get("tool_calls") or []:
            parts.append(str((call.get("function") or {}).get("arguments", "")))
    return "\n".join(parts)


class Pools:
    """Names, places and ids found in a prompt."""

    def __init__(self, prompt: str) -> None:
        names: dict[str, None] = {}
        places: dict[str, None] = {}
        ids: dict[str, None] = {}
        free = _TAG.sub(" ", prompt)
        for tag, body in _TAG.findall(prompt):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if tag in ("character", "speaker") and data is None:
                names.setdefault(body.strip(), None)
            elif tag in ("location",) and data is None:
                places.setdefault(body.strip(), None)
            elif data is not None:
                _walk_json(data, None, names, places, ids)
            else:
                free += "\n" + body
        for word in _CAPITALISED.findall(free):
            if word not in STOPWORDS:
                names.setdefault(word, None)
        names.pop("", None)
        places.pop("", None)
        self.names = list(names)
        self.places = list(places) or self.names
        self.ids = list(ids)


def _walk_json(
    data: Any,
    key: str | None,
    names: dict[str, None],
    places: dict[str, None],
    ids: dict[str, None],
) -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            if key in CHARACTER_MAPS:
                names.setdefault(str(k), None)
            _walk_json(v, str(k), names, places, ids)
    elif isinstance(data, list):
        for v in data:
            _walk_json(v, key, names, places, ids)
    elif isinstance(data, str):
        if key in CHARACTER_FIELDS or key == "name":
            names.setdefault(data, None)
        elif key in PLACE_FIELDS:
            places.setdefault(data, None)
        elif len(data) <= 24 and " " not in data:
            ids.setdefault(data, None)
        if key not in CHARACTER_FIELDS | PLACE_FIELDS:
            for word in _CAPITALISED.findall(data):
                if word not in STOPWORDS:
                    names.setdefault(word, None)


def bounded(schema: Any) -> Any:
    """`schema` with small arrays, maps and strings (a copy; still a subset of the original)."""
    if isinstance(schema, list):
        return [bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k in _SCHEMA_MAPS and isinstance(v, dict):  # property name -> schema
            out[k] = {name: bounded(sub) for name, sub in v.items()}
        else:
            out[k] = bounded(v)
    kind = out.get("type")
    if kind == "array" or "items" in out:
        low = int(out.get("minItems", 0))
        out["maxItems"] = max(low, min(int(out.get("maxItems", MAX_ITEMS)), MAX_ITEMS))
    if kind == "object" and "properties" in out:
        # No invented keys: pydantic would ignore them, and strict structured outputs forbid them.
        out.setdefault("additionalProperties", False)
    if kind == "object" and "properties" not in out:
        low = int(out.get("minProperties", 0))
        out["maxProperties"] = max(low, min(int(out.get("maxProperties", MAX_ITEMS)), MAX_ITEMS))
    if kind == "string" and "enum" not in out and "const" not in out:
        low = int(out.get("minLength", 0))
        out["maxLength"] = max(low, min(int(out.get("maxLength", MAX_CHARS)), MAX_CHARS))
    return out


def strategy_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    key = json.dumps(schema, sort_keys=True)
    if key not in _strategies:
        _strategies[key] = from_schema(bounded(copy.deepcopy(schema)))
    return _strategies[key]


def draw(strategy: st.SearchStrategy[Any], number: int) -> list[Any]:
    """The examples Hypothesis generates for `strategy` under seed `number` (deterministic)."""
    drawn: list[Any] = []

    @settings(
        max_examples=DRAWS,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
    )
    @hypothesis_seed(number)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    with _lock:
        collect()
    return drawn


class RandomAnswers:
    """An `Answer` for FakeOpenAI: a seeded random instance of the requested schema."""

    def __init__(
        self, seed: int, max_requests: int | None = None, journal: Path | None = None
    ) -> None:
        self.seed = seed
        self.journal = journal  # every answer appended as a JSON line (schema, key, answer)
        self.max_requests = max_requests
        self.exhausted = False  # asked more than max_requests times (a loop): 500s from then on
        self.asked: Counter[str] = Counter()
        self.log: list[tuple[str, str, dict[str, Any]]] = []  # (schema, request key, answer)
        self.seconds = 0.0  # spent drawing answers
        self._lock = threading.Lock()

    def key(self, schema_name: str, request_json: dict[str, Any]) -> str:
        messages = [m for m in request_json.get("messages", []) if m.get("role") != "system"]
        body = json.dumps([schema_name, messages], sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(body.encode()).hexdigest()
        with self._lock:
            self.asked[digest] += 1
            return f"{digest}:{self.asked[digest]}"

    def __call__(self, schema_name: str, request_json: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self.max_requests is not None and len(self.log) >= self.max_requests:
                self.exhausted = True
                raise RuntimeError(f"more than {self.max_requests} structured requests")
        started = time.perf_counter()
        key = self.key(schema_name, request_json)
        schema = request_schema(request_json, schema_name)
        number = int.from_bytes(hashlib.sha256(f"{self.seed}:{key}".encode()).digest()[:8], "big")
        rng = random.Random(number)
        examples = draw(strategy_for(schema), number)
        value = examples[rng.randrange(1, len(examples))] if len(examples) > 1 else examples[0]
        answer = dress(value, schema, None, rng, Pools(prompt_text(request_json)))
        with self._lock:
            self.seconds += time.perf_counter() - started
            self.log.append((schema_name, key, answer))
            if self.journal is not None:
                with self.journal.open("a", encoding="utf-8") as out:
                    out.write(json.dumps([schema_name, key, answer], ensure_ascii=False) + "\n")
        return answer


def _branch(schema: dict[str, Any], value: Any) -> dict[str, Any]:
    """The branch of an anyOf/oneOf that `value` is an instance of (by JSON type)."""
    for option in schema.get("anyOf") or schema.get("oneOf") or []:
        kind = option.get("type")
        if (
            (kind == "object" and isinstance(value, dict))
            or (kind == "array" and isinstance(value, list))
            or (kind == "string" and isinstance(value, str))
        ):
            return option
    return schema


def dress(value: Any, schema: Any, field: str | None, rng: random.Random, pools: Pools) -> Any:
    """Put names and ids from the prompt into `value`'s name fields and map keys."""
    if not isinstance(schema, dict):
        return value
    schema = _branch(schema, value)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        if props:
            return {k: dress(v, props.get(k, {}), k, rng, pools) for k, v in value.items()}
        inner = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for k, v in value.items():
            new_key = _map_key(k, field, schema, rng, pools)
            if new_key in out:
                new_key = k
            out[new_key] = dress(v, inner, None, rng, pools)
        return out
    if isinstance(value, list):
        return [dress(v, schema.get("items", {}), field, rng, pools) for v in value]
    if isinstance(value, str) and "enum" not in schema and "const" not in schema:
        return _string(value, field, schema, rng, pools)
    return value


def _pick(pool: list[str], value: str, rng: random.Random) -> str:
    if not pool or rng.randrange(NAME_MISS) == 0:
        return value
    return rng.choice(pool)


def _fits(text: str, schema: dict[str, Any]) -> bool:
    return int(schema.get("minLength", 0)) <= len(text) <= int(schema.get("maxLength", 10**6))


def _string(value: str, field: str | None, schema: dict[str, Any], rng, pools: Pools) -> str:
    if field in CHARACTER_FIELDS or field in NAME_FIELDS:
        new = _pick(pools.names, value, rng)
    elif field in PLACE_FIELDS:
        new = _pick(pools.places, value, rng)
    elif field in ID_FIELDS:
        new = _pick(pools.ids + _described_ids(schema), value, rng)
    else:
        return value
    return new if _fits(new, schema) and "pattern" not in schema else value


def _described_ids(schema: dict[str, Any]) -> list[str]:
    """Ids a field's description quotes ('m3') or lists after its colon (day, dusk, night)."""
    text = str(schema.get("description", ""))
    quoted = _QUOTED.findall(text)
    listed = _WORD.findall(text.rsplit(":", 1)[1]) if ":" in text else []
    return quoted + [w for w in listed if w not in ("or", "and", "eg")]


def _map_key(key: str, field: str | None, schema: dict[str, Any], rng, pools: Pools) -> str:
    if field in CHARACTER_MAPS:
        return _pick(pools.names, key, rng)
    described = _described_ids(schema)
    if schema.get("propertyNames") or not described:
        return key
    return _pick(described, key, rng)


# -- one episode on random answers (the CI test and bench/random_answers.py) ------------------

IDEA = (
    "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko. "
    "Her brother Ren helps."
)
KEY_ENV = "RANDOM_LLM_KEY"
MODEL_ID = "random-llm"
TEXT_TASKS = ("write", "design", "storyboard")
AGENTS = ("screenwriter", "character_designer", "director")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(: |$)")
MAX_REQUESTS = 400  # a line that asks more than this for a 12 s episode is looping


@dataclass
class Outcome:
    """How one episode on random answers ended."""

    seed: int
    status: str  # completed | stopped | crashed | unclear_stop | looping
    exit_code: int | None
    message: str  # the stop's message, or the exception ("KeyError: 'x' at file:line")
    requests: int
    output: str = dataclass_field(default="", repr=False)
    traceback: str = dataclass_field(default="", repr=False)
    answers: list[tuple[str, str, dict[str, Any]]] = dataclass_field(
        default_factory=list, repr=False
    )
    answer_s: float = 0.0  # time spent drawing the answers

    @property
    def first_line(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


def hosted_project(root: Path, base_url: str) -> None:
    """A project whose every text task is one hosted model on `base_url`."""
    root.mkdir(parents=True, exist_ok=True)
    tasks = ", ".join(f'"{t}"' for t in TEXT_TASKS)
    (root / "inkreel.toml").write_text(
        "[[models]]\n"
        f'id = "{MODEL_ID}"\ncapability = "text"\nprovider = "openai"\nmodel = "random-model"\n'
        f'base_url = "{base_url}"\napi_key_env = "{KEY_ENV}"\ntier = 3\n'
        f"tasks = [{tasks}]\n"
        "price = { usd_per_1k_input_tokens = 0.0001, usd_per_1k_output_tokens = 0.0002 }\n"
    )


def produce_args(root: Path, length: int = 12, episode: str = "e1") -> list[str]:
    pins = [a for t in TEXT_TASKS for a in ("--model", f"{t}={MODEL_ID}")]
    return ["produce", IDEA, "-o", str(root), "--length", str(length), "--episode", episode, *pins]


ENV = {
    "INKREEL_RETRY_BASE_DELAY_S": "0",
    "INKREEL_FALLBACK": "never",  # no offline engine behind the random answers
    KEY_ENV: "sk-random-answers",
}


def run_episode(
    seed: int, root: Path, length: int = 12, episode: str = "e1", journal: Path | None = None
) -> Outcome:
    """Produce one episode with every text task answered by `RandomAnswers(seed)` (each answer
    also appended to `journal` as a JSON line, when given)."""
    from typer.testing import CliRunner

    from inkreel import cli

    from .fake_openai import FakeOpenAI

    answers = RandomAnswers(seed, max_requests=MAX_REQUESTS, journal=journal)
    with FakeOpenAI(answer=answers) as server:
        hosted_project(root, server.base_url)
        result = CliRunner().invoke(cli.app, produce_args(root, length, episode), env=ENV)
        requests = len(server.requests_to("chat"))
    output = result.output + (result.stderr if result.stderr not in result.output else "")
    outcome = Outcome(seed, "", result.exit_code, "", requests, output, answers=answers.log)
    outcome.answer_s = answers.seconds
    logs = sorted((root / "logs").glob("*.log")) if (root / "logs").is_dir() else []
    folder = root / "episodes" / episode
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        outcome.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        outcome.status, outcome.message = "crashed", describe(outcome.traceback)
    elif answers.exhausted:
        outcome.status = "looping"
        outcome.message = f"more than {MAX_REQUESTS} structured requests"
    elif result.exit_code == 0 and (folder / "manifest.json").exists():
        outcome.status = "completed" if (folder / "episode.mp4").exists() else "unclear_stop"
    elif result.exit_code == 2:
        outcome.message = stop_message(result.stderr or result.output)
        clear = "Traceback" not in output and not logs and names_agent(outcome.message)
        outcome.status = "stopped" if clear else "unclear_stop"
    else:
        outcome.traceback = logs[-1].read_text(encoding="utf-8") if logs else output
        outcome.status, outcome.message = "crashed", describe(outcome.traceback)
    return outcome


def names_agent(message: str) -> bool:
    """The message names an agent: screenwriter, character designer or director (the word)."""
    words = "|".join(a.replace("_", "[_ ]") for a in AGENTS)
    return re.search(rf"\b({words})\b", message, flags=re.I) is not None


def stop_message(text: str) -> str:
    """The error line(s) the CLI printed (from "inkreel: error:" on), else the last lines."""
    at = text.find("inkreel: error:")
    return " ".join((text[at:] if at >= 0 else text[-400:]).split())


def describe(tb: str) -> str:
    """`Type: message at file:line` for a traceback: the innermost frame in the inkreel package
    (else the innermost frame)."""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', tb)
    ours = [f for f in frames if "/inkreel/" in f[0] and "/tests/" not in f[0]] or frames
    where = ""
    if ours:
        path, line, func = ours[-1]
        short = path[path.rfind("/inkreel/") + 1 :] if "/inkreel/" in path else path
        where = f" at {short}:{line} ({func})"
    # The exception line: `module.Type: message` (not langgraph's "During task ..." note).
    lines = [ln for ln in tb.strip().splitlines() if _EXCEPTION_LINE.match(ln)]
    last = lines[-1] if lines else tb.strip()[-200:]
    return f"{last[:300]}{where}"
