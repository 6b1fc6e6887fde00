"""The Twee 3 reader: headers, escapes, special passages, links in every form."""

from __future__ import annotations

import pytest

from engine.twee.parse import Link, TweeError, parse_header, parse_twee, read_story, split_link


@pytest.mark.parametrize(("inner", "link"), [
    ("Hallway", Link("Hallway", "Hallway")),
    ("Knock->Hallway", Link("Knock", "Hallway")),
    ("Hallway<-Knock", Link("Knock", "Hallway")),
    ("Knock|Hallway", Link("Knock", "Hallway")),
    ("a->b->Hallway", Link("a->b", "Hallway")),  # the rightmost -> divides
    ("Hallway<-a<-b", Link("a<-b", "Hallway")),  # the leftmost <- divides
    ("Buy|Shop][$gold to $gold - 2", Link("Buy", "Shop", "$gold to $gold - 2")),
    (" Knock -> Hallway ", Link("Knock", "Hallway")),
])
def test_link_forms(inner: str, link: Link) -> None:
    assert split_link(inner) == link


def test_header_with_tags_and_metadata() -> None:
    name, tags, meta, notes = parse_header(
        ':: An overgrown path [forest spooky] {"position":"600,400","size":"100,200"}')
    assert (name, tags, meta, notes) == (
        "An overgrown path", ("forest", "spooky"), {"position": "600,400", "size": "100,200"},
        [])


def test_header_escapes() -> None:
    name, tags, meta, _ = parse_header(r":: A \[bracketed\] \{name\} with \\ slash [t\]ag]")
    assert name == r"A [bracketed] {name} with \ slash"
    assert tags == ("t]ag",)
    assert meta == {}
    assert parse_header(r":: Only \q letters")[0] == "Only q letters"


def test_bad_metadata_and_unclosed_tags_are_notes_not_errors() -> None:
    name, tags, meta, notes = parse_header(":: Room [a b {not json", "s.twee", 7)
    assert (name, tags, meta) == ("Room", (), {})
    assert [str(n) for n in notes] == ["s.twee:7: the tag block has no closing `]`; tags ignored"]
    _, _, meta, notes = parse_header(':: Room {"position": 1', "s.twee", 3)
    assert meta == {} and "not a JSON object" in notes[0].message


def test_passages_lines_and_content() -> None:
    text = ("ignored preface\n:: Start [a]\nHello.\n\\:: not a header\n\n\n"
            ":: Second\r\nBye.\r\n")
    passages, notes = parse_twee(text, "s.twee")
    assert [(p.name, p.tags, p.line, p.text) for p in passages] == [
        ("Start", ("a",), 2, "Hello.\n:: not a header"),
        ("Second", (), 7, "Bye."),
    ]
    assert [str(n) for n in notes] == ["s.twee:1: 1 line(s) before the first passage ignored"]


def test_story_title_data_and_duplicates() -> None:
    story = read_story([
        ("a.twee", ':: StoryTitle\nThe Door\n\n:: StoryData\n{"start": "B", "format":'
                   ' "Harlowe"}\n\n:: A\nx\n'),
        ("b.twee", ":: B\ny\n:: A\nagain\n"),
    ])
    assert story.title == "The Door"
    assert story.data == {"start": "B", "format": "Harlowe"}
    assert [p.name for p in story.passages] == ["A", "B"]
    assert story.passage("A").text == "x"
    assert [str(n) for n in story.notes] == [
        "b.twee:3: passage `A` is also at a.twee:7; this one is ignored"]


@pytest.mark.parametrize("text", ["", "no header at all\n", ":: StoryTitle\nOnly a title\n",
                                  "::\nnameless\n"])
def test_no_passages_is_an_error(text: str) -> None:
    with pytest.raises(TweeError, match="no passages found"):
        read_story([("x.twee", text)])
