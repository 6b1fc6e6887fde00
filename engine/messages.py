"""Player-facing sentences the engine produces (lock reasons, notices), per locale."""

from __future__ import annotations

from typing import Any

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "points.gte": "Needs {n} {currency} — you have {have}",
        "points.lt": "Only with fewer than {n} {currency} — you have {have}",
        "points.other": "Needs a balance {cmp} {n} {currency} — you have {have}",
        "level.gte": "Needs level {n} — you are level {have}",
        "level.other": "Needs level {cmp} {n} — you are level {have}",
        "role": "Only for {role} guests",
        "flag": "Not yet",
        "not": "No longer available",
        "item.gte1": "Requires the {item}",
        "item.gte": "Requires {n} × {item} — you have {have}",
        "item.other": "Needs {item} {cmp} {n} — you have {have}",
        "stat.gte": "Needs {stat} {n} — yours is {have}",
        "stat.other": "Needs {stat} {cmp} {n} — yours is {have}",
        "string.eq": "Only when {name} is “{value}”",
        "string.ne": "Not while {name} is “{value}”",
        "visited.gte1": "You have not been there yet",
        "visited.other": "Needs more exploring",
        "achievement": "Requires the achievement “{achievement}”",
        "ending": "Reach another ending first",
        "count.gte": "Needs {n} {what} — you have {have}",
        "count.other": "Needs {what} {cmp} {n} — you have {have}",
        "what.visited_count": "places discovered",
        "what.achievements_count": "achievements",
        "what.endings_count": "endings found",
        "cost": "Costs {n} {currency} — you have {have}",
        "taken": "Already chosen",
        "any": " or ",
        "notice.achievement": "🏆 Achievement unlocked: {name}",
        "notice.reward": "🏆 Achievement unlocked: {name} (+{n} {currency})",
        "notice.level": "⭐ Level up: {level} — {name}",
        "notice.award": "+{n} {currency}",
        "notice.capped": "Daily limit reached: no more {currency} today",
        "ending.good": "A good ending",
        "ending.bad": "A bad ending",
        "ending.neutral": "An ending",
        "ending.secret": "A secret ending",
        "migrate.moved": "The story was updated: your place in it moved. You continue here.",
        "migrate.restart": "The story was updated and your place in it no longer exists;"
                           " you start again from the beginning, keeping your {currency}"
                           " and achievements.",
    },
    "es": {
        "points.gte": "Necesitas {n} {currency}; tienes {have}",
        "points.lt": "Solo con menos de {n} {currency}; tienes {have}",
        "points.other": "Necesitas un saldo {cmp} {n} {currency}; tienes {have}",
        "level.gte": "Necesitas nivel {n}; eres nivel {have}",
        "level.other": "Necesitas nivel {cmp} {n}; eres nivel {have}",
        "role": "Solo para invitados {role}",
        "flag": "Todavía no",
        "not": "Ya no está disponible",
        "item.gte1": "Requiere: {item}",
        "item.gte": "Requiere {n} × {item}; tienes {have}",
        "item.other": "Necesitas {item} {cmp} {n}; tienes {have}",
        "stat.gte": "Necesitas {stat} {n}; tienes {have}",
        "stat.other": "Necesitas {stat} {cmp} {n}; tienes {have}",
        "string.eq": "Solo si {name} es «{value}»",
        "string.ne": "No mientras {name} sea «{value}»",
        "visited.gte1": "Aún no has estado allí",
        "visited.other": "Necesitas explorar más",
        "achievement": "Requiere el logro «{achievement}»",
        "ending": "Primero alcanza otro final",
        "count.gte": "Necesitas {n} {what}; tienes {have}",
        "count.other": "Necesitas {what} {cmp} {n}; tienes {have}",
        "what.visited_count": "lugares descubiertos",
        "what.achievements_count": "logros",
        "what.endings_count": "finales",
        "cost": "Cuesta {n} {currency}; tienes {have}",
        "taken": "Ya elegido",
        "any": " o ",
        "notice.achievement": "🏆 Logro desbloqueado: {name}",
        "notice.reward": "🏆 Logro desbloqueado: {name} (+{n} {currency})",
        "notice.level": "⭐ Subes de nivel: {level} — {name}",
        "notice.award": "+{n} {currency}",
        "notice.capped": "Límite diario alcanzado: no hay más {currency} hoy",
        "ending.good": "Un buen final",
        "ending.bad": "Un mal final",
        "ending.neutral": "Un final",
        "ending.secret": "Un final secreto",
        "migrate.moved": "La historia se actualizó y tu lugar en ella cambió. Sigues aquí.",
        "migrate.restart": "La historia se actualizó y tu lugar en ella ya no existe;"
                           " empiezas de nuevo desde el principio y conservas tus {currency}"
                           " y tus logros.",
    },
}

CMP_SYMBOLS = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "eq": "=", "ne": "≠"}


def say(locale: str, key: str, **values: Any) -> str:
    table = STRINGS.get(locale) or STRINGS["en"]
    template = table.get(key) or STRINGS["en"][key]
    return template.format(**values)
