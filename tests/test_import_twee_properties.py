"""Property: whatever Twee a writer brings, import → lint → simulate never crashes, the
imported content has no lint error (so play, simulate and graph accept it), and its files
are in the layout `diana fmt` keeps."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from engine.diagnostics import Severity
from engine.lint import lint
from engine.load import load
from engine.twee import TweeError, import_twee
from engine.yaml_fmt import format_text

NAMES = st.sampled_from(["Start", "Hall", "hall", "Höhle", "1st room", "A [b] {c}", "???",
                         "StoryInit", "Street", "Missing", "x" * 40, "End"])
VARS = st.sampled_from(["$gold", "$hasKey", "$name", "$Gold", "_tmp", "$a.b"])
VALUES = st.sampled_from(["1", "-3", "true", "false", '"Bob"', "$gold + 1", "it - 2",
                          "$other * 2", "99999999999999999999", "random(1, 6)"])
CONDS = st.sampled_from(["$gold > 2", "$hasKey", "not $hasKey", "$gold is $other",
                         'visited("Hall")', '$name is "Bob"', "$gold gte 1 and $hasKey",
                         "(history:) contains \"Start\"", "", "$gold >", "(("])


@st.composite
def snippet(draw: st.DrawFn, harlowe: bool) -> str:
    target = draw(NAMES)
    label = draw(st.sampled_from(["Go", "", "a|b", "{x}", "“Quote”", "->"]))
    var, value, cond = draw(VARS), draw(VALUES), draw(CONDS)
    text = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30))
    sugar = [f"[[{target}]]", f"[[{label}->{target}]]", f"[[{target}<-{label}]]",
             f"[[{label}|{target}][{var} to {value}]]", f"<<set {var} to {value}>>",
             f"<<if {cond}>>{text}[[{target}]]<<else>>no<</if>>", f"<<goto \"{target}\">>",
             f"<<link \"{label}\" \"{target}\">><<set {var} to {value}>><</link>>",
             f"<<textbox \"{var}\" \"\">>", f"<<print {var}>>", f"{var}", "<<if>>", "<</if>>",
             f"<<timed 1s>>{text}<</timed>>", "<<script>>x()<</script>>", text, "\n",
             f"<<switch {var}>><<case 1 \"a\">>{text}<<default>>[[{target}]]<</switch>>",
             "<<switch $gold>>stray<<case>>x<</switch>>"]
    hw = [f"[[{target}]]", f"[[{label}->{target}]]", f"(set: {var} to {value})",
          f"(if: {cond})[{text}[[{target}]]](else:)[no]", f"(goto: \"{target}\")",
          f"(link-goto: \"{label}\", \"{target}\")",
          f"(link: \"{label}\")[(set: {var} to {value})(goto: \"{target}\")]",
          f"(print: {var})", f"{var}", "(else:)[x]", f"(text-colour: red)[{text}]", text,
          "\n", "(if: $gold > 1)[[[Hall]]]"]
    return draw(st.sampled_from(hw if harlowe else sugar))


@st.composite
def twee(draw: st.DrawFn) -> str:
    harlowe = draw(st.booleans())
    fmt = "Harlowe" if harlowe else "SugarCube"
    out = [f':: StoryData\n{{"format": "{fmt}", "start": "{draw(NAMES)}"}}\n']
    for _ in range(draw(st.integers(1, 6))):
        tags = draw(st.sampled_from(["", " [good]", " [a b]", " [script]", " [startup]"]))
        body = "".join(draw(st.lists(snippet(harlowe), max_size=6)))
        out.append(f":: {draw(NAMES)}{tags}\n{body}\n")
    return "\n".join(out)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(source=twee())
def test_import_lint_simulate_never_crash(source: str, tmp_path_factory) -> None:
    try:
        texts, _ = import_twee([("story.twee", source)])
    except TweeError:
        return  # a story of special passages only: refused, with a message
    out: Path = tmp_path_factory.mktemp("imported")
    for rel, text in texts.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
        assert format_text(text, rel, quick=False) == text  # `diana fmt` has nothing to do
    errors = [d for d in lint(load(out)) if d.severity is Severity.ERROR]
    assert errors == [], (source, errors)
    result = CliRunner().invoke(app, ["simulate", str(out), "--max-states", "300",
                                      "--probe", "5"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        source, result.exception)
    assert result.exit_code in (0, 1), (source, result.output)
    assert "Traceback" not in result.output
