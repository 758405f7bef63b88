"""Structured text from an OpenAI-compatible chat model: a validated pydantic object and its usage.

`StructuredText.generate(schema, messages)` goes through LangChain's
`ChatOpenAI.with_structured_output(schema, include_raw=True)`, with one repair-and-retry when
the model's output is not valid JSON or breaks the schema: part of producing a valid answer,
not a transport retry (those are the router's).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, SecretStr, ValidationError

from inkreel.checks.json_fit import fit
from inkreel.providers.capabilities import Review, Usage
from inkreel.providers.openai.errors import (
    ProviderCallError,
    excerpt,
    provider_call,
)

M = TypeVar("M", bound=BaseModel)


_REFUSAL_TEXT = re.compile(
    r"\b(?:i\s*(?:am|'m|’m)\s*(?:sorry|unable|not able)"
    r"|i\s*(?:can\s*not|cannot|can't|can’t|won't|won’t|will not)\s+"
    r"(?:help|assist|comply|provide|create|write|do|fulfil|fulfill|produce|generate)"
    r"|unable to (?:help|assist|comply))",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else str(b.get("text", ""))
        for b in content
        if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
    )


def _errors(error: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in error.errors(include_url=False)[:12]
    ]


@dataclass
class _Verdict:
    value: BaseModel | None = None
    refusal: str | None = None
    problem: str = ""
    errors: list[str] = field(default_factory=list)
    output: str = ""
    fitted: list[str] = field(default_factory=list)  # bounds and spellings fitted by rule


StructuredMethod = Literal["tool", "json_schema", "json_object"]
# How each method asks LangChain for structure.
_LANGCHAIN_METHODS = {
    "tool": "function_calling",
    "json_schema": "json_schema",
    "json_object": "json_mode",
}
# Reviews a schema-valid answer; returns what makes it unusable (nothing: usable).


class StructuredText:
    """A hosted chat model that answers with instances of pydantic schemas.

    `method` is how it is asked for structure: "tool" (a forced tool call, the default: the
    widest support among OpenAI-compatible servers, and what the offline model does),
    "json_schema" (structured outputs: the JSON in the message content, constrained by the
    schema) or "json_object" (JSON mode: any JSON object, the schema given in the prompt).
    `max_tokens`, `temperature` and `seed` are sent when set.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        method: StructuredMethod = "tool",
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.method: StructuredMethod = method
        self._secrets = (api_key,)
        extra: dict[str, Any] = {"temperature": temperature, "seed": seed}
        self._chat = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=SecretStr(api_key),
            timeout=timeout_s,
            max_retries=0,  # retries are the router's job
            use_responses_api=False,  # OpenAI-compatible servers speak chat/completions
            # As `max_tokens` in the body: ChatOpenAI renames its own parameter to
            # `max_completion_tokens`, which local servers (llama.cpp, older vLLM) ignore.
            extra_body={"max_tokens": max_tokens} if max_tokens else None,
            **{k: v for k, v in extra.items() if v is not None},
        )

    def as_chat_model(self) -> BaseChatModel:
        """The underlying ChatOpenAI (max_retries=0), for agents that call
        `with_structured_output` themselves. Its failures are raw openai/LangChain exceptions:
        pass them to `classify`. It does no repair."""
        return self._chat

    def generate(
        self, schema: type[M], messages: Sequence[BaseMessage], review: Review | None = None
    ) -> tuple[M, Usage]:
        """Return a usable `schema` instance and the tokens used, or raise ProviderCallError.

        The raw answer is first fitted to the schema's stated bounds (`checks.json_fit`; the
        changes are in `Usage.repaired`), then validated, then reviewed (`review(value)` lists
        what makes a valid answer unusable, e.g. a name that is not in the cast). Invalid JSON,
        a schema violation or a review finding gets one repair request: the conversation, the
        model's answer as an assistant message and the exact problems, asking for a corrected
        answer. If that fails too, or the server rejects the repair request itself: kind
        "invalid_output" with `diagnostic` (model, schema, problem, errors, output_excerpt).
        A refusal (the `refusal` field, a content-filter stop, or a text like "I can't help
        with that" instead of an answer) raises kind "refusal".
        """
        tool = convert_to_openai_tool(schema)["function"]["name"]
        usage = Usage(model=self.model)
        history = self._prompt(schema, messages)
        verdicts: list[_Verdict] = []
        for attempt in (1, 2):
            try:
                raw, parsed, parsing_error = self._ask(schema, history)
            except ProviderCallError as exc:
                if attempt == 1 or exc.kind not in ("server_error", "bad_request"):
                    raise
                # The server refused the repair request itself: what is wrong is the answer.
                verdicts.append(_Verdict(problem=f"the repair request failed ({exc.detail})"))
                break
            usage = usage.add(raw)
            verdict = self._judge(schema, tool, raw, parsed, parsing_error)
            if verdict.refusal is not None:
                raise self._refused(schema, verdict.refusal, attempt)
            if isinstance(verdict.value, schema):
                problems = list(review(verdict.value)) if review else []
                if not problems:
                    return verdict.value, usage.model_copy(update={"repaired": verdict.fitted})
                verdict = _Verdict(
                    problem=f"{len(problems)} problem(s) in the {schema.__name__}: "
                    + "; ".join(problems[:5]),
                    errors=problems,
                    output=verdict.output or verdict.value.model_dump_json(),
                )
            verdicts.append(verdict)
            if attempt == 1:
                history += self._repair_messages(schema, tool, verdict)
        raise self._unusable(schema, verdicts)

    def _prompt(
        self, schema: type[BaseModel], messages: Sequence[BaseMessage]
    ) -> list[BaseMessage]:
        """The request's messages; in JSON mode the model is also shown the schema."""
        history = list(messages)
        if self.method == "json_object":
            shape = json.dumps(schema.model_json_schema(), ensure_ascii=False)
            history.append(
                HumanMessage(f"Answer with one JSON object that fits this JSON Schema:\n{shape}")
            )
        return history

    def converse(
        self, tools: Sequence[type[BaseModel]], messages: Sequence[BaseMessage]
    ) -> tuple[AIMessage, Usage]:
        """One turn of a conversation with tools the model may call (tool calling, choice
        left to the model): its message (text, tool calls or both) and the tokens used."""
        bound = self._chat.bind_tools(list(tools))
        with provider_call(self.model, self._secrets):
            out = bound.invoke(list(messages))
        if not isinstance(out, AIMessage):
            raise ProviderCallError(
                "invalid_output", "no assistant message in the response", model=self.model
            )
        for bad in out.invalid_tool_calls:
            raise ProviderCallError(
                "invalid_output",
                f"a tool call that is not JSON: {excerpt(str(bad.get('args')), 200)!r}",
                model=self.model,
            )
        return out, Usage(model=self.model).add(out)

    def _ask(
        self, schema: type[BaseModel], history: list[BaseMessage]
    ) -> tuple[AIMessage, Any, BaseException | None]:
        # json_schema gets the JSON Schema dict, not the class: given the class, langchain-openai
        # has the SDK's `parse` validate inside the HTTP call, and a schema violation would
        # raise before the raw output reaches us to repair. We validate either way.
        method = _LANGCHAIN_METHODS[self.method]
        target: Any = schema if self.method == "tool" else schema.model_json_schema()
        structured = self._chat.with_structured_output(
            target,
            method=method,  # type: ignore[arg-type]
            include_raw=True,
        )
        with provider_call(self.model, self._secrets):
            out = structured.invoke(history)
        if not isinstance(out, dict) or not isinstance(out.get("raw"), AIMessage):
            raise ProviderCallError(
                "invalid_output", "no assistant message in the response", model=self.model
            )
        return out["raw"], out.get("parsed"), out.get("parsing_error")

    def _refused(self, schema: type[BaseModel], refusal: str, attempt: int) -> ProviderCallError:
        return ProviderCallError(
            "refusal",
            f"the model declined to produce {schema.__name__}: {excerpt(refusal, 200)!r}",
            model=self.model,
            diagnostic={
                "model": self.model,
                "schema": schema.__name__,
                "attempt": attempt,
                "refusal": excerpt(refusal),
            },
            secrets=self._secrets,
        )

    def _unusable(self, schema: type[BaseModel], verdicts: list[_Verdict]) -> ProviderCallError:
        first, last = verdicts[0], verdicts[-1]
        if not last.errors:  # the repair request failed: report what the answer had wrong
            last = _Verdict(
                problem=f"{first.problem}; {last.problem}", errors=first.errors, output=first.output
            )
        shown = excerpt(last.output)
        return ProviderCallError(
            "invalid_output",
            f"no usable {schema.__name__} after one repair request: {last.problem}. "
            f"Output began: {shown[:120]!r}",
            model=self.model,
            diagnostic={
                "model": self.model,
                "schema": schema.__name__,
                "method": self.method,
                "attempts": len(verdicts),
                "problem": last.problem,
                "errors": last.errors,
                "output_excerpt": shown,
                "first_problem": first.problem,
                "first_output_excerpt": excerpt(first.output),
            },
            secrets=self._secrets,
        )

    # -- judging and repairing ---------------------------------------------------------------

    def _judge(
        self,
        schema: type[BaseModel],
        tool: str,
        raw: AIMessage,
        parsed: Any,
        parsing_error: BaseException | None,
    ) -> _Verdict:
        refusal = raw.additional_kwargs.get("refusal")
        if refusal:
            return _Verdict(refusal=str(refusal))
        if raw.response_metadata.get("finish_reason") == "content_filter":
            return _Verdict(refusal="(stopped by the provider's content filter)")
        if isinstance(parsed, schema):
            return _Verdict(value=parsed)

        call = next((c for c in raw.tool_calls if c["name"] == tool), None)
        if call is not None:
            output = json.dumps(call["args"], ensure_ascii=False)
            return self._validate(schema, call["args"], output)
        bad = next((c for c in raw.invalid_tool_calls if c.get("name") in (tool, None)), None)
        if bad is not None:
            output = str(bad.get("args") or "")
            try:
                args = json.loads(output)
            except json.JSONDecodeError as e:
                return _Verdict(
                    problem=f"the {tool} arguments are not valid JSON ({e})",
                    errors=[f"(json): {e}"],
                    output=output,
                )
            return self._validate(schema, args, output)
        if raw.tool_calls:
            other = raw.tool_calls[0]
            output = json.dumps({"tool": other["name"], "args": other["args"]}, ensure_ascii=False)
            return _Verdict(
                problem=f"called tool {other['name']!r} instead of {tool!r}",
                errors=[f"(tool): expected {tool}"],
                output=output,
            )

        text = _message_text(raw).strip()
        body = _FENCE.sub(r"\1", text)
        try:
            data = json.loads(body) if body else None
        except json.JSONDecodeError as e:
            if _REFUSAL_TEXT.search(text):
                return _Verdict(refusal=text)
            where = "" if self.method != "tool" else f"no call to {tool}; "
            return _Verdict(
                problem=f"{where}the reply is not valid JSON ({e})",
                errors=[f"(json): {e}"],
                output=text,
            )
        if data is None:
            reason = f" ({parsing_error})" if parsing_error else ""
            return _Verdict(problem=f"an empty reply{reason}", errors=["(root): empty"], output="")
        # Lenient: a server that ignores tool_choice may still put the right JSON in content.
        return self._validate(schema, data, text)

    @staticmethod
    def _validate(schema: type[BaseModel], data: Any, output: str) -> _Verdict:
        data, fitted = fit(data, _json_schema(schema))
        try:
            return _Verdict(value=schema.model_validate(data), output=output, fitted=fitted)
        except ValidationError as e:
            return _Verdict(
                problem=f"{e.error_count()} validation error(s) for {schema.__name__}: "
                + "; ".join(_errors(e)[:5]),
                errors=_errors(e),
                output=output,
            )

    def _repair_messages(
        self, schema: type[BaseModel], tool: str, verdict: _Verdict
    ) -> list[BaseMessage]:
        """The repair request: the model's answer as plain assistant text, then the problems.

        Plain text, not an echoed tool call: a tool call echoed with empty content is sent
        as `content: null`, which some OpenAI-compatible servers reject (llama.cpp: HTTP 500).
        """
        how = f"by calling {tool}" if self.method == "tool" else "with the JSON object only"
        request = (
            f"Your previous answer could not be used: {verdict.problem}.\n"
            "Errors:\n"
            + "\n".join(f"- {e}" for e in verdict.errors)
            + f"\nAnswer again {how}, with a complete and valid {schema.__name__}: every "
            "required field, the right types and allowed values, nothing else."
        )
        return [AIMessage(content=verdict.output or "(empty)"), HumanMessage(content=request)]


@functools.cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()
