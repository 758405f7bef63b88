"""Keyframes from an OpenAI-compatible image model: generations and reference-guided edits."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from inkreel.providers.openai.errors import ProviderCallError, openai_client, provider_call

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def as_png(data: bytes, model: str) -> bytes:
    """Return `data` if it is a whole PNG, the image re-encoded as PNG if it is another format,
    or raise invalid_output if it does not decode (truncated, corrupt, not an image)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.verify()  # checks chunk CRCs and the end of the file, even if Pillow is lenient
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.format == "PNG":
                return data
            out = io.BytesIO()
            im.save(out, format="PNG")
            return out.getvalue()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ProviderCallError(
            "invalid_output",
            f"the image does not decode ({type(e).__name__}: {e}); {len(data)} bytes",
            model=model,
            diagnostic={"model": model, "bytes": len(data), "head": data[:16].hex()},
        ) from None


class OpenAIImages:
    """Image generation and reference-guided edits (`/images/generations`, `/images/edits`).

    `size` is passed through as "WxH"; what sizes a model accepts is the provider's business.
    A `url` answer is downloaded with httpx only from the base_url's host (or one listed in
    `allowed_url_hosts`, e.g. a provider's CDN), without the API key.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        allowed_url_hosts: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._secrets = (api_key,)
        self._client = openai_client(base_url, api_key, timeout_s)
        self._hosts = {httpx.URL(base_url).host, *allowed_url_hosts}

    def generate(self, prompt: str, size: str = "1280x720") -> bytes:
        with provider_call(self.model, self._secrets):
            response = self._client.images.generate(model=self.model, prompt=prompt, size=size, n=1)
        return self._bytes(response)

    def edit(self, prompt: str, references: list[Path], size: str = "1280x720") -> bytes:
        """Edit guided by reference images (e.g. a character turnaround and a set plate); each
        file goes as a multipart part (`image` for one, `image[]` for several)."""
        if not references:
            raise ValueError("edit needs at least one reference image")
        files = [
            (p.name, p.read_bytes(), _MIME.get(p.suffix.lower(), "image/png")) for p in references
        ]
        image: Any = files[0] if len(files) == 1 else files
        with provider_call(self.model, self._secrets):
            response = self._client.images.edit(
                model=self.model, image=image, prompt=prompt, size=size, n=1
            )
        return self._bytes(response)

    def _bytes(self, response: Any) -> bytes:
        data = getattr(response, "data", None) or []
        if not data:
            raise ProviderCallError("invalid_output", "no image in the response", model=self.model)
        item = data[0]
        if getattr(item, "b64_json", None):
            try:
                raw = base64.b64decode(item.b64_json, validate=True)
            except (binascii.Error, ValueError) as e:
                raise ProviderCallError(
                    "invalid_output", f"b64_json does not decode: {e}", model=self.model
                ) from None
        elif getattr(item, "url", None):
            raw = self._download(str(item.url))
        else:
            raise ProviderCallError(
                "invalid_output", "the image has neither b64_json nor url", model=self.model
            )
        return as_png(raw, self.model)

    def _download(self, url: str) -> bytes:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or parsed.host not in self._hosts:
            raise ProviderCallError(
                "invalid_output",
                f"refusing to download the image from {parsed.scheme}://{parsed.host}: only "
                f"{sorted(self._hosts)} are allowed",
                model=self.model,
                secrets=self._secrets,
            )
        with (
            provider_call(self.model, self._secrets),
            httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client,
        ):
            response = client.get(url)
            response.raise_for_status()
            return response.content
