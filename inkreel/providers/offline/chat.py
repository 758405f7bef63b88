"""A LangChain chat model backed by the offline story engine.

Agents call it exactly like a hosted model: `model.with_structured_output(Schema)`. LangChain
turns that into a forced tool call; this model answers the tool call with arguments that the
story engine computes from the prompt. No network, no keys, deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from inkreel.providers.offline import story_engine

MODEL_NAME = "inkreel-offline-story-engine"


class OfflineChatModel(BaseChatModel):
    """Deterministic procedural chat model that only answers structured-output requests."""

    seed: int = Field(default=0)
    model_name: str = MODEL_NAME

    @property
    def _llm_type(self) -> str:
        return "inkreel-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "seed": self.seed}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = kwargs.get("tools") or []
        if not tools:
            raise ValueError(
                "the offline story engine answers structured-output requests only; call "
                "model.with_structured_output(Schema)"
            )
        name = tools[0]["function"]["name"]
        # The system prompt names the tags in prose; the inputs are in the other messages.
        prompt = "\n\n".join(str(m.content) for m in messages if m.type != "system")
        args = story_engine.answer(name, prompt, self.seed)
        call_id = (
            "call_"
            + hashlib.sha256(
                json.dumps([name, args], sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest()[:16]
        )
        message = AIMessage(
            content="",
            tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}],
            usage_metadata={
                "input_tokens": len(prompt) // 4,
                "output_tokens": len(json.dumps(args, ensure_ascii=False)) // 4,
                "total_tokens": (len(prompt) + len(json.dumps(args, ensure_ascii=False))) // 4,
            },
            response_metadata={"model_name": self.model_name},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
