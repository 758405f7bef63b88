"""Typed artifacts passed between agents."""

from inkreel.schemas.continuity import ContinuityReport, Finding, ShotOutcome
from inkreel.schemas.design import (
    Character,
    CharacterDesign,
    HairStyle,
    Layer,
    Lighting,
    Location,
    LocationDesign,
    SetElement,
    Voice,
)
from inkreel.schemas.manifest import Artifact, Manifest, Take
from inkreel.schemas.script import Act, Beat, Emotion, Scene, Script, SkippedElement, TimeOfDay
from inkreel.schemas.storyboard import (
    Angle,
    Blocking,
    Box,
    Camera,
    FigureLayout,
    Framing,
    Keyframe,
    Move,
    Shot,
    ShotPlan,
    ShotSpec,
    Storyboard,
)
from inkreel.schemas.timeline import FPS, AudioClip, Subtitle, Timeline, VideoClip

__all__ = [
    "FPS", "Act", "Angle", "Artifact", "AudioClip", "Beat", "Blocking", "Box", "Camera",
    "Character", "CharacterDesign", "ContinuityReport", "Emotion", "FigureLayout", "Finding",
    "Framing", "HairStyle", "Keyframe", "Layer", "Lighting", "Location", "LocationDesign",
    "Manifest", "Move", "Scene", "Script", "SetElement", "Shot", "ShotOutcome", "ShotPlan",
    "ShotSpec", "SkippedElement", "Storyboard", "Subtitle", "Take", "TimeOfDay", "Timeline",
    "VideoClip", "Voice",
]
