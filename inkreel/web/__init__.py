"""The local web page (`inkreel serve`): a writer chats an episode into being with the
showrunner. A thin layer over `inkreel.chat` and `inkreel.episode_view`."""

from inkreel.web.server import create_app

__all__ = ["create_app"]
