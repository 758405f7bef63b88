"""The offline providers: no network, no keys, deterministic for a seed.

`story_engine` answers the text schemas (through `chat.OfflineChatModel`, a LangChain chat
model); the keyframe, voice and animate stand-ins draw, speak and encode locally
(`stand_ins`).
"""
