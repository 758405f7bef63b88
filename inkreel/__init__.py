"""inkreel: a production line for AI motion-comic (manhua drama) episodes."""

__version__ = "0.1.0"
# Projects record this; a project written with another major layout version is refused.
PROJECT_FORMAT = 1
