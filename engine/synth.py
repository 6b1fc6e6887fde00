"""Synthetic stories for benchmarks and tests: any size, deterministic, valid or with faults.

`generate(fragments, seed, faults)` returns the files of a story as {relative path: YAML
text}, laid out like the sample: `content/game.yaml`, `content/story/part_NNN.yaml` (500
fragments a file) and `rules/*.yaml`, which the manifest names with `rules: [../rules]`.
`write(directory, ...)` puts those files under `directory` and returns the story directory
(`directory/content`) to hand to `load`, `diana lint` or `diana play`.

A valid story lints with no diagnostic at all and can be played to an ending: every
fragment that is not an ending has a first choice with no requirement that moves forward.
The story is built from chapters of ten fragments (the tenth is an ending) and uses every
part of the format: requirements of every kind, costs, `when_locked`, `locked_text`, once
and stay-here choices, weighted random gotos, back edges (loops through other fragments),
conditional paragraphs and effects, chances, interpolation, items, flags, stats, custom
events, achievements with rewards, rules with filters, `if`, priority and `once`, levels,
the daily cap and text in `en` and `es`.

A fault (a name from `FAULTS`) seeds one specific problem; a story with faults `F` lints to
exactly the codes `expected_codes(F)`, each once. Where it goes depends on the seed.
"""

from __future__ import annotations

import json
import random
import re
import textwrap
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

__all__ = ["FAULTS", "FRAGMENTS_PER_FILE", "expected_codes", "generate", "write"]

FRAGMENTS_PER_FILE = 500
CHAPTER = 10  # fragments per chapter; the last one is an ending
MIN_FRAGMENTS = CHAPTER

# fault name -> the code lint reports for it (names are the catalog's check names, plus
# two short aliases)
ALIASES = {"bad-yaml": "yaml-syntax", "unreachable": "unreachable-fragment"}
FAULTS: dict[str, str] = {
    "yaml-syntax": "Y001",
    "bad-yaml": "Y001",
    "duplicate-key": "Y002",
    "yaml-alias": "Y003",
    "empty-file": "Y006",
    "byte-order-mark": "Y007",
    "schema-violation": "S001",
    "duplicate-id": "R001",
    "unknown-goto": "R002",
    "unknown-start": "R003",
    "unknown-reference": "R004",
    "unknown-interpolation": "R005",
    "missing-manifest": "R006",
    "unknown-locale": "R007",
    "version-not-semver": "M001",
    "levels-not-increasing": "M002",
    "unknown-check": "M003",
    "unreachable-fragment": "G001",
    "unreachable": "G001",
    "dead-end": "G002",
    "ending-with-choices": "G003",
    "all-choices-hideable": "G004",
    "self-loop-no-effect": "G005",
    "rule-cycle": "G006",
    "duplicate-choice-id": "C001",
    "duplicate-choice-label": "C002",
    "achievement-never-unlocked": "U001",
    "flag-never-set": "U002",
    "flag-never-read": "U003",
    "item-never-given": "U004",
    "text-too-long": "T001",
    "label-too-long": "T002",
    "locked-reason-too-long": "T004",
    "missing-translation": "L001",
}

# Faults that keep the model from being built (file errors), so story checks do not run.
_STOPPING = {"yaml-syntax", "duplicate-key", "yaml-alias", "schema-violation",
             "missing-manifest"}
_MANIFEST_FAULTS = {"version-not-semver", "levels-not-increasing", "unknown-check",
                    "unknown-start"}


def expected_codes(faults: Iterable[str]) -> set[str]:
    """The codes `lint` reports for a story generated with `faults` (each exactly once).

    File errors stop the model from being built, so only they (and file warnings) show;
    without a manifest nothing the manifest says is read; an unknown start hides
    reachability.
    """
    faults = {ALIASES.get(f, f) for f in faults}
    unknown = faults - FAULTS.keys()
    if unknown:
        raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
    if faults & _STOPPING:
        keep = _STOPPING | {"empty-file", "byte-order-mark"}
        return {FAULTS[f] for f in faults if f in keep}
    if "unknown-start" in faults:
        faults -= {"unreachable", "unreachable-fragment"}
    return {FAULTS[f] for f in faults}


# -- words ------------------------------------------------------------------------------

_SENTENCES = [
    ("The candles gutter as a door opens somewhere below.",
     "Las velas titilan mientras una puerta se abre en algún lugar de abajo."),
    ("A servant in grey gloves offers you a glass of something amber.",
     "Un criado con guantes grises te ofrece una copa de algo ambarino."),
    ("Music drifts in from the next room, slow and a little sad.",
     "Llega música de la sala contigua, lenta y algo triste."),
    ("Someone laughs behind a curtain and then falls silent.",
     "Alguien ríe tras una cortina y luego se calla."),
    ("The floorboards remember every footstep that ever crossed them.",
     "Las tablas del suelo recuerdan cada paso que las ha cruzado."),
    ("A portrait watches you with the patience of the long dead.",
     "Un retrato te observa con la paciencia de los que murieron hace mucho."),
    ("Rain taps against the tall windows like a polite visitor.",
     "La lluvia golpea los altos ventanales como un visitante educado."),
    ("The air smells of wax, roses and old paper.",
     "El aire huele a cera, a rosas y a papel viejo."),
    ("You hear the clock on the landing count another quarter hour.",
     "Oyes al reloj del rellano contar otro cuarto de hora."),
    ("A cat the colour of smoke follows you for a while, then loses interest.",
     "Un gato color humo te sigue un rato y luego pierde el interés."),
    ("Lucien nods at you as if he had expected exactly this.",
     "Lucien te saluda con la cabeza como si esperase justo esto."),
    ("Velvet ropes mark a path that nobody seems to follow.",
     "Cordones de terciopelo marcan un camino que nadie parece seguir."),
]
_VARIABLE_SENTENCES = [
    ("You carry {points} {currency} {emoji} and the name {player}.",
     "Llevas {points} {currency} {emoji} y el nombre {player}."),
    ("Here you are {level_name}, of level {level}.",
     "Aquí eres {level_name}, de nivel {level}."),
    ("Your courage stands at {stat.courage}.", "Tu valor está en {stat.courage}."),
]
_PLACES = [
    ("The Hall", "El vestíbulo"), ("The Library", "La biblioteca"),
    ("The Gallery", "La galería"), ("The Conservatory", "El invernadero"),
    ("The Landing", "El rellano"), ("The Card Room", "La sala de juego"),
    ("The Cellar", "La bodega"), ("The Tower", "La torre"),
    ("The Ballroom", "El salón de baile"), ("The Garden", "El jardín"),
]
_ENDING_KINDS = ("good", "bad", "neutral", "secret")


def _t(en: str, es: str) -> dict[str, str]:
    return {"en": en, "es": es}


class _Story:
    """The story as plain data, file by file, before it is written out as YAML."""

    def __init__(self, fragments: int, seed: int, stats: int = 0) -> None:
        if fragments < MIN_FRAGMENTS:
            raise ValueError(f"a synthetic story needs at least {MIN_FRAGMENTS} fragments")
        self.n = fragments
        self.seed = seed
        self.gauges = [f"gauge_{k:02d}" for k in range(stats)]
        self.rng = random.Random(seed)
        self.width = max(5, len(str(fragments - 1)))
        self.chapters = fragments // CHAPTER  # complete chapters
        self.manifest: dict[str, Any] = {}
        self.parts: dict[str, dict[str, Any]] = {}  # path -> {fragment id: fragment}
        self.where: dict[str, str] = {}  # fragment id -> path
        self.achievements: dict[str, Any] = {}
        self.world: dict[str, Any] = {"items": {}, "flags": {}, "stats": {}, "events": {}}
        self.rules: list[dict[str, Any]] = []
        self.text_faults: list[tuple[str, str, str]] = []  # (fault, path, fragment id)
        self.broken: set[str] = set()  # files a fault keeps from reading

    # -- naming ------------------------------------------------------------------------

    def fid(self, i: int) -> str:
        return f"scene_{i:0{self.width}d}"

    @staticmethod
    def chapter_ids(c: int) -> dict[str, str]:
        return {"flag": f"clue_{c:04d}", "item": f"token_{c:04d}",
                "achievement": f"chapter_{c:04d}", "event": f"chime_{c:04d}"}

    def paragraph(self, sentences: int = 3, variables: bool = False) -> dict[str, str]:
        picked = self.rng.sample(_SENTENCES, sentences)
        if variables:
            picked.insert(self.rng.randrange(len(picked) + 1), self.rng.choice(_VARIABLE_SENTENCES))
        return _t(" ".join(en for en, _ in picked), " ".join(es for _, es in picked))

    def title(self, i: int) -> dict[str, str]:
        en, es = _PLACES[(i * 7 + self.seed) % len(_PLACES)]
        return _t(f"{en} {i}", f"{es} {i}")

    # -- building ----------------------------------------------------------------------

    def build(self) -> None:
        self.build_manifest()
        self.build_world()
        fragments = [self.fragment(i) for i in range(self.n)]
        for start in range(0, self.n, FRAGMENTS_PER_FILE):
            path = f"content/story/part_{start // FRAGMENTS_PER_FILE:03d}.yaml"
            part = {}
            for i in range(start, min(start + FRAGMENTS_PER_FILE, self.n)):
                part[self.fid(i)] = fragments[i]
                self.where[self.fid(i)] = path
            self.parts[path] = part

    def build_manifest(self) -> None:
        names = [("Visitor", "Visitante"), ("Guest", "Huésped"), ("Confidant", "Confidente"),
                 ("Intimate", "Cómplice"), ("Inner Circle", "Círculo Íntimo"),
                 ("Legend", "Leyenda")]
        self.manifest = {
            "format": 1,
            "version": f"1.{self.seed % 10}.0",
            "title": _t(f"Synthetic Story {self.seed}", f"Historia sintética {self.seed}"),
            "start": self.fid(0),
            "locales": ["en", "es"],
            "currency": {"id": "besitos", "name": _t("Besitos", "Besitos"), "emoji": "💋"},
            "levels": [{"level": i + 1, "name": _t(en, es), "points": points}
                       for i, ((en, es), points) in enumerate(zip(names, (0, 30, 80, 160, 300, 500),
                                                                   strict=True))],
            "roles": ["free", "vip"],
            "limits": {"daily_points": 500, "max_chain": 50},
            "rules": ["../rules"],
        }

    def build_world(self) -> None:
        w = self.world
        for sid, (en, es) in {"courage": ("Courage", "Valor"), "charm": ("Charm", "Encanto"),
                              "wit": ("Wit", "Ingenio"), "luck": ("Luck", "Suerte")}.items():
            w["stats"][sid] = {"name": _t(en, es), "initial": 0, "min": 0, "max": 20}
        for k, gid in enumerate(self.gauges):
            w["stats"][gid] = {"name": _t(f"Gauge {k}", f"Indicador {k}"), "initial": 0,
                               "min": 0, "max": 20}
        w["flags"]["welcomed"] = {"description": "Set by the start rule"}
        global_achievements = {
            "first_light": ("First Light", "Primera luz", "Start a night in the house.", 5),
            "collector": ("Collector", "Coleccionista", "Unlock five achievements.", 30),
            "rising": ("Rising Star", "Estrella en ascenso", "Reach level 3.", 20),
            "happy": ("Happily Ever After", "Felices para siempre", "Reach a good ending.", 40),
            "grim": ("The Door Closes", "La puerta se cierra", "Reach a bad ending.", 10),
            "windfall": ("Windfall", "Golpe de suerte", "Receive 10 or more at once.", 15),
            "generous": ("Generous", "Generoso", "Spend 3 or more at once.", 10),
            "hoarder": ("Hoarder", "Acaparador", "Hold two tokens of the first chapter.", 15),
            "brave": ("Brave Heart", "Corazón valiente", "Reach courage 3.", 20),
            "storyteller": ("Storyteller", "Cuentacuentos", "Reach three endings.", 40),
        }
        for aid, (en, es, desc, reward) in global_achievements.items():
            self.achievements[aid] = {"name": _t(en, es), "description": _t(desc, desc),
                                      "reward": reward}
        self.achievements["storyteller"]["secret"] = True
        first = self.chapter_ids(0)
        self.rules += [
            {"id": "welcome", "when": {"event": "start"}, "once": True,
             "then": [{"set": "welcomed"}, {"unlock": "first_light"},
                      {"award": {"points": 5, "reason": "welcome"}}]},
            {"id": "collector", "when": {"event": "unlock"},
             "if": {"achievements_count": {"gte": 5}}, "priority": 10, "once": True,
             "then": [{"unlock": "collector"}]},
            {"id": "rising", "when": {"event": "level_up", "level": 3}, "once": True,
             "then": [{"unlock": "rising"}]},
            {"id": "happy", "when": {"event": "ending", "kind": "good"}, "once": True,
             "then": [{"unlock": "happy"}]},
            {"id": "grim", "when": {"event": "ending", "kind": "bad"}, "once": True,
             "then": [{"unlock": "grim"}]},
            {"id": "windfall", "when": {"event": "award", "points": {"gte": 10}}, "once": True,
             "then": [{"unlock": "windfall"}]},
            {"id": "generous", "when": {"event": "spend", "points": {"gte": 3}}, "once": True,
             "then": [{"unlock": "generous"}]},
            {"id": "hoarder", "when": {"event": "item", "item": first["item"], "count": {"gt": 0}},
             "if": {"item": {"id": first["item"], "gte": 2}}, "once": True,
             "then": [{"unlock": "hoarder"}]},
            {"id": "brave", "when": {"event": "stat", "stat": "courage", "value": {"gte": 3}},
             "once": True, "then": [{"unlock": "brave"}]},
            {"id": "storyteller", "when": {"event": "ending"},
             "if": {"endings_count": {"gte": 3}}, "once": True, "priority": 5,
             "then": [{"unlock": "storyteller"}]},
            {"id": "first_clue", "when": {"event": "flag", "flag": first["flag"], "value": True},
             "then": [{"award": {"points": 1, "reason": "first_clue"}}]},
        ]
        for c in range(self.chapters):
            ids = self.chapter_ids(c)
            w["items"][ids["item"]] = {
                "name": _t(f"Token {c}", f"Ficha {c}"),
                "description": _t("A brass token, warm from a stranger's hand.",
                                  "Una ficha de latón, tibia de la mano de un desconocido."),
            }
            w["flags"][ids["flag"]] = {"description": f"The player found the clue of chapter {c}"}
            w["events"][ids["event"]] = {"description": f"The chime of chapter {c}"}
            self.achievements[ids["achievement"]] = {
                "name": _t(f"Chapter {c}", f"Capítulo {c}"),
                "description": _t(f"Reach the heart of chapter {c}.",
                                  f"Llega al corazón del capítulo {c}."),
                "reward": 5 + c % 4 * 5,
            }
            reach = self.fid(c * CHAPTER + 3)
            self.rules.append({"id": f"reach_{c:04d}",
                               "when": {"event": "enter", "fragment": reach},
                               "then": [{"unlock": ids["achievement"]}]})
            chime: dict[str, Any] = {"id": f"chime_{c:04d}", "when": {"event": ids["event"]}}
            if c % 3 == 1:
                chime["if"] = {"not": {"flag": "welcomed"}} if c % 2 else {"level": {"gte": 2}}
            chime["then"] = [{"award": {"points": 5, "reason": "chime"}},
                             {"stat": {"id": "luck", "add": 1}}]
            if c % 5 == 0:
                chime["priority"] = c % 7
            if c % 2 == 0:
                chime["once"] = True
            self.rules.append(chime)

    def choice(self, cid: str, en: str, es: str, goto: Any = None, **more: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"id": cid, "text": _t(en, es)}
        if goto is not None:
            out["goto"] = goto
        out.update(more)
        return out

    def fragment(self, i: int) -> dict[str, Any]:
        c, pos = divmod(i, CHAPTER)
        last = self.n - 1
        f: dict[str, Any] = {"title": self.title(i), "tags": [f"chapter_{c}"]}
        full = c < self.chapters
        if i == last or (full and pos == CHAPTER - 1):
            kind = "good" if i == last else _ENDING_KINDS[(c + self.seed) % 4]
            f["ending"] = kind
            f["text"] = [self.paragraph(3), self.paragraph(2)]
            if i == last:  # the stats the story changes are read somewhere (U005)
                f["text"].append(_t(
                    "Charm {stat.charm}, wit {stat.wit}, luck {stat.luck}.",
                    "Encanto {stat.charm}, ingenio {stat.wit}, suerte {stat.luck}."))
            return f
        if not full:  # the short tail after the last complete chapter
            f["text"] = self.paragraph(3)
            choices = [self.choice("onward", "Walk on", "Seguir adelante", self.fid(i + 1))]
            if i + 2 <= last:
                choices.append(self.choice("hurry", "Hurry ahead", "Apresurarse",
                                           self.fid(i + 2), cost=1))
            f["choices"] = choices
            return f
        return self.chapter_fragment(f, i, c, pos)

    def chapter_fragment(self, f: dict[str, Any], i: int, c: int, pos: int) -> dict[str, Any]:
        ids = self.chapter_ids(c)
        nxt = self.fid(i + 1)
        skip = self.fid(min(i + 2, self.n - 1))
        f["text"] = [self.paragraph(3, variables=pos in (0, 3)), self.paragraph(2)]
        choices: list[dict[str, Any]] = [self.choice("onward", "Walk on", "Seguir adelante", nxt)]
        if pos == 0:
            f["on_first_enter"] = [{"award": {"points": 5, "reason": "chapter"}}]
            if c == 0:
                f["text"].append({"if": {"flag": "welcomed"},
                                  "text": _t("Lucien remembers you.", "Lucien te recuerda."),
                                  "else": _t("Lucien does not know you yet.",
                                             "Lucien aún no te conoce.")})
                choices.append(self.choice("velvet", "The velvet rope", "El cordón de terciopelo",
                                           skip, requires={"role": "vip"}, when_locked="hide"))
            else:
                prev = self.chapter_ids(c - 1)["achievement"]
                choices.append(self.choice(
                    "shortcut", "The servants' stair", "La escalera de servicio", skip,
                    requires={"achievement": prev}, when_locked="show",
                    locked_text=_t("Only those who know the house may pass.",
                                   "Solo quien conoce la casa puede pasar.")))
        elif pos == 1:
            choices[0]["effects"] = [{"set": ids["flag"]}, {"stat": {"id": "courage", "add": 1}}]
            choices.append(self.choice("bribe", "Slip a coin to the porter",
                                       "Dar una moneda al portero", skip, cost=5,
                                       effects=[{"award": {"points": 2, "reason": "tip_back"}}]))
            choices.append(self.choice("look", "Look around", "Mirar alrededor", once=True,
                                       effects=[{"stat": {"id": "wit", "add": 1}}]))
        elif pos == 2:
            f["on_first_enter"] = [{"give": ids["item"]},
                                   {"give": {"item": ids["item"], "count": 1}, "chance": 0.5}]
            f["text"].append(_t(f"Your pocket holds {{item.{ids['item']}}} tokens.",
                                f"Tu bolsillo guarda {{item.{ids['item']}}} fichas."))
            choices.append(self.choice("rich", "Walk the gilded hall", "Cruzar el salón dorado",
                                       skip, requires={"points": {"gte": 10}}))
        elif pos == 3:
            choices.append(self.choice("stairs", "Climb the stairs", "Subir la escalera", skip,
                                       requires={"level": 2}, when_locked="show"))
            if self.gauges:
                gauge = self.gauges[c % len(self.gauges)]
                choices.append(self.choice("gauge", "Read the dial", "Leer el dial", skip,
                                           requires={"stat": {"id": gauge, "gte": 2}},
                                           when_locked="hide"))
            choices.append(self.choice(
                "back", "Go back", "Volver atrás", self.fid(i - 2),
                requires={"not": {"visited": {"fragment": self.fid(i - 2), "gte": 3}}},
                when_locked="hide", effects=[{"stat": {"id": "charm", "sub": 1}}]))
        elif pos == 4:
            choices.append(self.choice(
                "clue", "Follow the clue", "Seguir la pista", skip, requires={"flag": ids["flag"]},
                locked_text=_t("You have not found the clue.", "No has encontrado la pista.")))
            choices.append(self.choice(
                "bold", "Open the locked door", "Abrir la puerta cerrada", self.fid(i + 3),
                requires={"all": [{"stat": {"id": "courage", "gte": 1}},
                                  {"any": [{"role": "vip"}, {"points": {"gte": 20, "lt": 1000}}]}]},
                when_locked="hide"))
        elif pos == 5:
            f["text"].append({"if": {"flag": ids["flag"]},
                              "text": _t("The clue makes sense now.", "La pista cobra sentido."),
                              "else": _t("Nothing here makes sense.", "Nada aquí tiene sentido.")})
            choices.append(self.choice(
                "token", "Drop a token in the slot", "Echar una ficha en la ranura", skip,
                requires={"item": {"id": ids["item"], "gte": 1}},
                effects=[{"take": ids["item"]}, {"emit": ids["event"]}]))
        elif pos == 6:
            choices[0]["goto"] = {"random": [{"to": nxt, "weight": 3}, {"to": skip, "weight": 1}]}
            choices.append(self.choice(
                "toll", "Pay the toll", "Pagar el peaje", skip,
                requires={"visited": {"fragment": self.fid(i - 5), "gte": 1}},
                effects=[{"clear": ids["flag"]}, {"spend": {"points": 3, "reason": "toll"}}]))
            choices.append(self.choice(
                "remember", "Remember the stair", "Recordar la escalera", skip,
                requires={"visited": self.fid(i - 4)}, when_locked="hide"))
        elif pos == 7:
            f["on_enter"] = [{"stat": {"id": "charm", "add": 1},
                              "if": {"not": {"flag": ids["flag"]}}}]
            choices.append(self.choice("again", "Try the hall again", "Probar el salón otra vez",
                                       self.fid(i - 3), requires={"endings_count": {"gte": 1}},
                                       when_locked="hide"))
            ending_req = ({"ending": self.fid(i - CHAPTER + 2)} if c > 0
                          else {"achievements_count": {"gte": 1}})
            choices.append(self.choice("leave", "Leave quietly", "Marcharse en silencio",
                                       self.fid(i + 2), requires=ending_req))
        elif pos == 8:
            choices[0]["goto"] = skip
            rest = [{"award": {"points": 10, "reason": "night"}}]
            if self.gauges:
                rest.append({"stat": {"id": self.gauges[c % len(self.gauges)], "add": 1}})
            choices.append(self.choice("rest", "Call it a night", "Dar la noche por terminada",
                                       nxt, effects=rest))
        f["choices"] = choices
        return f

    # -- faults ------------------------------------------------------------------------

    def pick(self, rng: random.Random, taken: set[str], fault: str) -> str:
        """A chapter fragment that is not an ending and that no other fault uses; a fault
        that breaks a whole file gets a file of its own (a broken file hides the rest)."""
        ok = [fid for c in range(self.chapters) for k in range(CHAPTER - 1)
              if (fid := self.fid(c * CHAPTER + k)) not in taken
              and (fault not in _FILE_BREAKERS or self.where[fid] not in self.broken)]
        if not ok:
            raise ValueError(f"too many faults for a story this small (at `{fault}`)")
        fid = rng.choice(ok)
        taken.add(fid)
        if fault in _FILE_BREAKERS:
            self.broken.add(self.where[fid])
        return fid

    def frag(self, fid: str) -> dict[str, Any]:
        return self.parts[self.where[fid]][fid]

    def add_fragment(self, near: str, fid: str, body: dict[str, Any]) -> None:
        self.parts[self.where[near]][fid] = body
        self.where[fid] = self.where[near]

    def new_body(self, goto: str, **more: Any) -> dict[str, Any]:
        body = {"title": _t("A Strange Room", "Una sala extraña"), "text": self.paragraph(2)}
        body.update(more)
        if "choices" not in body and "ending" not in body:
            body["choices"] = [self.choice("out", "Find the way out", "Buscar la salida", goto)]
        return body

    def apply(self, fault: str, taken: set[str]) -> None:
        rng = random.Random(f"{self.seed}:{fault}")
        target = self.pick(rng, taken, fault)
        frag = self.frag(target)
        onward = frag["choices"][0]["goto"]
        onward = onward if isinstance(onward, str) else onward["random"][0]["to"]
        add = frag["choices"].append
        if fault == "duplicate-id":
            other = [p for p in self.parts if p != self.where[target]]
            path = other[rng.randrange(len(other))] if other else "content/story/part_extra.yaml"
            self.parts.setdefault(path, {})[target] = self.new_body(onward)
        elif fault == "unknown-goto":
            add(self.choice("fault_goto", "Into the mist", "Hacia la niebla", "no_such_scene"))
        elif fault == "unknown-start":
            self.manifest["start"] = "no_such_start"
        elif fault == "unknown-reference":
            add(self.choice("fault_ref", "Ask about the rumour", "Preguntar por el rumor", onward,
                            requires={"flag": "no_such_flag"}))
        elif fault == "unknown-interpolation":
            frag["text"][0]["en"] += " Your mood is {mood}."
        elif fault == "unknown-locale":
            frag["title"]["fr"] = "Une salle"
        elif fault == "version-not-semver":
            self.manifest["version"] = "1.0"
        elif fault == "levels-not-increasing":
            levels = self.manifest["levels"]
            levels[2]["points"] = levels[1]["points"] - 1
        elif fault == "unknown-check":
            self.manifest["lint"] = {"severity": {"no_such_check": "off"}}
        elif fault in ("unreachable", "unreachable-fragment"):
            self.add_fragment(target, "fault_orphan", self.new_body(self.fid(0)))
        elif fault == "dead-end":
            self.add_fragment(target, "fault_dead_end", self.new_body(onward))
            del self.frag("fault_dead_end")["choices"]
            add(self.choice("fault_dead", "Try the narrow door", "Probar la puerta estrecha",
                            "fault_dead_end"))
        elif fault == "ending-with-choices":
            self.add_fragment(target, "fault_ending", self.new_body(onward) | {"ending": "bad"})
            add(self.choice("fault_end", "Take the last train", "Tomar el último tren",
                            "fault_ending"))
        elif fault == "all-choices-hideable":
            hidden = [self.choice("a", "Knock twice", "Llamar dos veces", onward,
                                  requires={"role": "vip"}, when_locked="hide"),
                      self.choice("b", "Knock thrice", "Llamar tres veces", onward,
                                  requires={"points": {"gte": 5}}, when_locked="hide")]
            self.add_fragment(target, "fault_hidden", self.new_body(onward, choices=hidden))
            add(self.choice("fault_hide", "Try the panelled door", "Probar la puerta de paneles",
                            "fault_hidden"))
        elif fault == "self-loop-no-effect":
            add(self.choice("fault_wait", "Wait a moment", "Esperar un momento"))
        elif fault == "rule-cycle":
            for a, b in (("ping", "pong"), ("pong", "ping")):
                self.world["items"][f"fault_{a}"] = {"name": _t(a.title(), a.title())}
                self.rules.append({"id": f"fault_{a}",
                                   "when": {"event": "item", "item": f"fault_{a}"},
                                   "then": [{"give": f"fault_{b}"}]})
        elif fault == "duplicate-choice-id":
            add(self.choice(frag["choices"][0]["id"], "Another way", "Otro camino", onward))
        elif fault == "duplicate-choice-label":
            first = frag["choices"][0]["text"]
            add(self.choice("fault_same", first["en"], first["es"] + " ya", onward))
        elif fault == "achievement-never-unlocked":
            self.achievements["fault_unearned"] = {"name": _t("Unearned", "Sin ganar")}
        elif fault == "flag-never-set":
            self.world["flags"]["fault_unset"] = {"description": "read, never set"}
            frag["text"].append({"if": {"flag": "fault_unset"},
                                 "text": _t("A bell rings.", "Suena una campana.")})
        elif fault == "flag-never-read":
            self.world["flags"]["fault_unread"] = {"description": "set, never read"}
            frag["choices"][0].setdefault("effects", []).append({"set": "fault_unread"})
        elif fault == "item-never-given":
            self.world["items"]["fault_ghost_key"] = {"name": _t("Ghost Key", "Llave fantasma")}
            add(self.choice("fault_key", "Unlock the cabinet", "Abrir la vitrina", onward,
                            requires={"item": "fault_ghost_key"}))
        elif fault == "text-too-long":
            long_en = " ".join([_SENTENCES[0][0]] * 90)
            frag["text"].append(_t(long_en, long_en))
        elif fault == "label-too-long":
            label = "Walk very slowly all the way down the long and winding corridor"
            add(self.choice("fault_long", label + " again", label + " otra vez", onward))
        elif fault == "locked-reason-too-long":
            reason = " ".join([_SENTENCES[1][0]] * 4)
            add(self.choice("fault_reason", "The sealed door", "La puerta sellada", onward,
                            requires={"role": "vip"}, locked_text=_t(reason, reason)))
        elif fault == "missing-translation":
            frag["title"] = {"en": frag["title"]["en"]}
        elif fault == "schema-violation":
            add(self.choice("fault_cost", "Pay what you owe", "Pagar lo que debes", onward,
                            cost="ten"))
        elif fault in _TEXT_FAULTS:
            self.text_faults.append((fault, self.where[target], target))
        else:  # pragma: no cover - FAULTS and this list are kept in step by the tests
            raise ValueError(f"unknown fault `{fault}`")

    # -- output ------------------------------------------------------------------------

    def files(self) -> dict[str, str]:
        out: dict[str, str] = {}
        out["content/game.yaml"] = _document("../schemas/game.schema.json", self.manifest)
        for path, frags in sorted(self.parts.items()):
            out[path] = _document("../../schemas/story.schema.json", {"fragments": frags})
        rules_header = "../schemas/rules.schema.json"
        out["rules/achievements.yaml"] = _document(rules_header,
                                                   {"achievements": self.achievements})
        out["rules/world.yaml"] = _document(rules_header, self.world)
        per_file = FRAGMENTS_PER_FILE
        for k in range(0, len(self.rules), per_file):
            out[f"rules/rules_{k // per_file:03d}.yaml"] = _document(
                rules_header, {"rules": self.rules[k:k + per_file]})
        return out


_FILE_BREAKERS = {"yaml-syntax", "duplicate-key", "yaml-alias", "schema-violation"}
_TEXT_FAULTS = {"yaml-syntax", "duplicate-key", "yaml-alias", "empty-file",
                "byte-order-mark", "missing-manifest"}


def _text_fault(files: dict[str, str], fault: str, path: str, fid: str) -> None:
    if fault == "missing-manifest":
        del files["content/game.yaml"]
        return
    if fault == "empty-file":
        files["content/story/empty.yaml"] = "# nothing here yet\n"
        return
    text = files[path]
    if fault == "byte-order-mark":
        files[path] = "\ufeff" + text
        return
    lines = text.split("\n")
    at = lines.index(f"  {fid}:")
    title = next(k for k in range(at + 1, len(lines)) if lines[k].startswith("    title:"))
    if fault == "yaml-syntax":
        lines[title] = lines[title].replace("title: ", "title: [", 1)
    elif fault == "duplicate-key":
        lines.insert(title + 1, lines[title])
    elif fault == "yaml-alias":
        lines[title] = lines[title].replace("title: ", "title: &title ", 1)
    files[path] = "\n".join(lines)


# -- a small YAML writer: block style, flow style for short maps, folded long text ---------

_PLAIN = re.compile(r"[A-Za-z¡¿À-ÿ][^:#{}\[\],&*!|>'\"%@`\n]*")
_RESERVED = re.compile(r"(?i:true|false|null|yes|no|on|off|y|n|~)$")
_FLOW_WIDTH = 88
_WRAP = 88


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    s = str(value)
    if _PLAIN.fullmatch(s) and s == s.strip() and not _RESERVED.match(s):
        return s
    return json.dumps(s, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _long(value: Any) -> bool:
    return isinstance(value, str) and len(value) > 60 and "  " not in value


def _folded(value: str, indent: int) -> list[str]:
    pad = " " * indent
    return [pad + line for line in textwrap.wrap(value, _WRAP - indent, break_long_words=False,
                                                   break_on_hyphens=False)]


def _node(key_prefix: str, value: Any, indent: int) -> list[str]:
    """Lines for `value` written after `key_prefix` (a `key:` or `-`) at `indent`."""
    pad = " " * indent
    if _long(value):
        return [f"{pad}{key_prefix} >-", *_folded(value, indent + 2)]
    if not isinstance(value, dict | list) or not value:
        return [f"{pad}{key_prefix} {_flow(value)}"]
    flow = _flow(value)
    nested_long = any(_long(v) for v in (value.values() if isinstance(value, dict) else value))
    if not nested_long and len(pad) + len(key_prefix) + len(flow) < _FLOW_WIDTH and (
            isinstance(value, list) or all(not isinstance(v, list) for v in value.values())):
        return [f"{pad}{key_prefix} {flow}"]
    if key_prefix == "-" and isinstance(value, dict):
        body = _block(value, indent + 2)
        return [f"{pad}- {body[0][indent + 2:]}", *body[1:]]
    return [f"{pad}{key_prefix}", *_block(value, indent + 2)]


def _block(value: Any, indent: int) -> list[str]:
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _node(f"{k}:", v, indent)
    else:
        for v in value:
            out += _node("-", v, indent)
    return out


def _document(schema: str, data: dict[str, Any]) -> str:
    lines = [f"# yaml-language-server: $schema={schema}"]
    lines += _block(data, 0)
    return "\n".join(lines) + "\n"


# -- the API ----------------------------------------------------------------------------


def generate(fragments: int, seed: int = 0, faults: Collection[str] = (),
             stats: int = 0) -> dict[str, str]:
    """The files of a synthetic story: {path relative to the output directory: YAML text}.

    Same arguments, same files. `faults` names entries of `FAULTS`; `stats` adds that many
    numeric stats (`gauge_NN`, 0 to 20), each raised by the night's rest of some chapters
    and tested by a dial of the next ones.
    """
    expected_codes(faults)  # rejects unknown names
    story = _Story(fragments, seed, stats)
    story.build()
    taken: set[str] = set()
    for fault in sorted({ALIASES.get(f, f) for f in faults}):
        story.apply(fault, taken)
    files = story.files()
    for fault, path, fid in story.text_faults:
        _text_fault(files, fault, path, fid)
    return files


def write(directory: str | Path, fragments: int, seed: int = 0,
          faults: Collection[str] = (), stats: int = 0) -> Path:
    """Write a synthetic story below `directory`; returns the story directory to load."""
    root = Path(directory)
    for rel, text in generate(fragments, seed, faults, stats).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "content"
