"""Image-to-video providers: Seedance 2.0 (Volcengine Ark / BytePlus ModelArk) and Vidu.

Both vendors run an asynchronous task: create it, poll it until a terminal state, then
download the MP4 from a short-lived URL. Both clients share that flow (`task`) and differ only
in the request body, the status document and the authorization header (`seedance`, `vidu`).
A download is checked as a whole MP4 before it is kept (`mp4`).

Everything here was written from the vendors' public documentation (addresses in the
modules' docstrings and comments). Where a detail could not be confirmed there, the comment
says so and the client takes a parameter for it (``extra_body``, ``image_url``,
``use_references``, ...). The ``openai`` SDK's videos (Sora) API is shut down and is not used.
"""

from inkreel.providers.video.errors import VideoCallError, VideoErrorKind
from inkreel.providers.video.mp4 import Mp4Info, inspect_mp4
from inkreel.providers.video.seedance import (
    ARK_BEIJING,
    ARK_BYTEPLUS,
    SEEDANCE_2_0,
    SEEDANCE_2_0_BYTEPLUS,
    SEEDANCE_2_0_FAST,
    SEEDANCE_2_0_FAST_BYTEPLUS,
    SeedanceClient,
)
from inkreel.providers.video.task import (
    CLIP_SECONDS,
    TaskJournal,
    TaskStatus,
    VideoRequest,
    VideoResult,
    image_data_url,
)
from inkreel.providers.video.vidu import VIDU_CN, VIDU_GLOBAL, VIDU_MODEL, ViduClient

__all__ = [
    "ARK_BEIJING",
    "ARK_BYTEPLUS",
    "CLIP_SECONDS",
    "SEEDANCE_2_0",
    "SEEDANCE_2_0_BYTEPLUS",
    "SEEDANCE_2_0_FAST",
    "SEEDANCE_2_0_FAST_BYTEPLUS",
    "VIDU_CN",
    "VIDU_GLOBAL",
    "VIDU_MODEL",
    "Mp4Info",
    "SeedanceClient",
    "TaskJournal",
    "TaskStatus",
    "VideoCallError",
    "VideoErrorKind",
    "VideoRequest",
    "VideoResult",
    "ViduClient",
    "image_data_url",
    "inspect_mp4",
]
