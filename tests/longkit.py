"""A story at the length of real ones (published games converted by hand): a passage of
over 10,000 characters, choice labels of 180 characters and 20 choices on one page, each
choice leading to its own room and back."""

from __future__ import annotations

import json
from pathlib import Path

CHOICES = 20
LABEL = 180


def sentence(p: int, s: int) -> str:
    return (f"Sentence {p}.{s} of the long room tells how the candle leans toward the door"
            " while the rain keeps counting the hours.")


def paragraphs() -> list[str]:
    """Short paragraphs, then one longer than a Telegram message (split between its
    sentences), then text HTML would misread: 10,000 characters and more."""
    short = [" ".join(sentence(p, s) for s in range(1, 5)) for p in range(1, 13)]
    huge = " ".join(sentence(13, s) for s in range(1, 50))
    return [*short, huge, "The last line holds <angle brackets> & an ampersand."]


def label(i: int) -> str:
    head = f"Choice {i:02d}: follow the corridor that"
    words = " winds past the portraits, the clocks and the shuttered windows of the east wing"
    text = head
    while len(text) < LABEL:
        text += words
    return text[:LABEL - 5].rstrip() + f" [{i:02d}]"


def write(root: Path, layout: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"format": 1, "version": "1.0.0", "title": "The Long Room", "start": "hub",
                "currency": {"id": "coins", "name": "Coins", "emoji": "🪙"}}
    if layout is not None:
        manifest["layout"] = layout
    fragments: dict = {"hub": {
        "title": "The Long Room",
        "text": paragraphs(),
        "choices": [{"id": f"c{i:02d}", "text": label(i), "goto": f"room{i:02d}"}
                    for i in range(1, CHOICES + 1)],
    }}
    for i in range(1, CHOICES + 1):
        fragments[f"room{i:02d}"] = {"text": f"You are in room {i:02d}.", "choices": [
            {"id": "back", "text": "Back to the long room", "goto": "hub"},
            {"id": "leave", "text": "Leave the house", "goto": "out"}]}
    fragments["out"] = {"text": "You leave the house.", "ending": "good"}
    # JSON is YAML (1.2), and needs no YAML library here
    (root / "game.yaml").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    (root / "story.yaml").write_text(json.dumps({"fragments": fragments},
                                                ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return root
