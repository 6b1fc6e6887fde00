"""The bot's own interface strings (en, es). Story text and the engine's sentences (lock
reasons, notices) come from the content and engine.messages; admin replies are English."""

from __future__ import annotations

from typing import Any

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "welcome_back": "Welcome back, {name}. Here is where you left off.",
        "stale": "That button is from an earlier page. /start shows where you are.",
        "updated": "The story was updated. Here is where you are now.",
        "invalid_button": "That button is not valid.",
        "done_already": "Already done.",
        "not_started": "You have not started yet: send /start.",
        "ended_hint": "This story has ended here: tap “Play again” or send /restart.",
        "ending": "✦ {label} ✦",
        "summary": ("{emoji} {points} {currency} · level {level} {level_name}"
                    " · 🏆 {ach}/{ach_total} · endings {endings}/{endings_total}"),
        "play_again": "↻ Play again",
        "page_more": "more… ›",
        "page_back": "‹ back",
        "restart_confirm": ("Start the story over? You keep your {currency}, achievements and"
                            " endings; your place in the story is lost."),
        "restart_yes": "Yes, start over",
        "restart_no": "No, keep playing",
        "restart_cancelled": "Carry on where you were.",
        "profile": ("👤 {name}\n{emoji} {points} {currency} (earned {earned})\n⭐ Level {level}"
                    " {level_name}\n🏆 Achievements {ach}/{ach_total}\n✦ Endings"
                    " {endings}/{endings_total}\n🗺 Explored {visited}/{reachable} ({percent}%)"),
        "achievements": "🏆 Achievements ({ach}/{ach_total})",
        "achievement_secret": "🔒 ??? (a secret)",
        "no_achievements": "None yet: keep exploring.",
        "board_title": "🏅 Leaderboard — {board}",
        "board_all": "All time",
        "board_week": "This week",
        "board_month": "This month",
        "board_empty": "Nobody has scored yet.",
        "board_you": "You: #{rank} of {total} with {score}",
        "board_unranked": "You are not on this board yet.",
        "help": ("Play by tapping the buttons under each page.\n\n/start — begin, or return to"
                 " where you are\n/profile — your {currency}, level and progress\n/achievements"
                 " — what you have unlocked\n/leaderboard — the best players\n/restart — start"
                 " the story over\n/language — change the language\n/help — this message"),
        "language_prompt": "Choose your language:",
        "language_set": "Language set: {language}.",
        "admin_only": "Sorry, that command is for the story's admins.",
        "flood": "Easy there — too many messages. Wait a few seconds and try again.",
        "unknown": "I understand the buttons and commands: /help lists them.",
        "error": "Something went wrong on our side; nothing was changed. Please try again.",
        "unavailable": "The story is catching its breath: try again in a moment.",
        "cmd_start": "Begin or resume the story",
        "cmd_profile": "Your points, level and progress",
        "cmd_achievements": "Your achievements",
        "cmd_leaderboard": "The best players",
        "cmd_restart": "Start the story over",
        "cmd_language": "Change the language",
        "cmd_help": "How to play",
    },
    "es": {
        "welcome_back": "Hola de nuevo, {name}. Sigues donde lo dejaste.",
        "stale": "Ese botón es de una página anterior. /start te muestra dónde estás.",
        "updated": "La historia se actualizó. Aquí es donde estás ahora.",
        "invalid_button": "Ese botón no es válido.",
        "done_already": "Ya está hecho.",
        "not_started": "Aún no has empezado: envía /start.",
        "ended_hint": "La historia terminó aquí: pulsa «Jugar de nuevo» o envía /restart.",
        "ending": "✦ {label} ✦",
        "summary": ("{emoji} {points} {currency} · nivel {level} {level_name}"
                    " · 🏆 {ach}/{ach_total} · finales {endings}/{endings_total}"),
        "play_again": "↻ Jugar de nuevo",
        "page_more": "más… ›",
        "page_back": "‹ atrás",
        "restart_confirm": ("¿Empezar la historia de nuevo? Conservas tus {currency}, logros y"
                            " finales; pierdes tu lugar en la historia."),
        "restart_yes": "Sí, empezar de nuevo",
        "restart_no": "No, seguir jugando",
        "restart_cancelled": "Sigue donde estabas.",
        "profile": ("👤 {name}\n{emoji} {points} {currency} (ganados {earned})\n⭐ Nivel {level}"
                    " {level_name}\n🏆 Logros {ach}/{ach_total}\n✦ Finales"
                    " {endings}/{endings_total}\n🗺 Explorado {visited}/{reachable} ({percent}%)"),
        "achievements": "🏆 Logros ({ach}/{ach_total})",
        "achievement_secret": "🔒 ??? (un secreto)",
        "no_achievements": "Ninguno todavía: sigue explorando.",
        "board_title": "🏅 Clasificación — {board}",
        "board_all": "Histórica",
        "board_week": "Esta semana",
        "board_month": "Este mes",
        "board_empty": "Nadie ha puntuado todavía.",
        "board_you": "Tú: #{rank} de {total} con {score}",
        "board_unranked": "Aún no estás en esta clasificación.",
        "help": ("Juega pulsando los botones bajo cada página.\n\n/start — empezar, o volver a"
                 " donde estás\n/profile — tus {currency}, nivel y progreso\n/achievements — lo"
                 " que has desbloqueado\n/leaderboard — los mejores jugadores\n/restart —"
                 " empezar la historia de nuevo\n/language — cambiar el idioma\n/help — este"
                 " mensaje"),
        "language_prompt": "Elige tu idioma:",
        "language_set": "Idioma: {language}.",
        "admin_only": "Lo siento, ese comando es para los administradores de la historia.",
        "flood": "Despacio — demasiados mensajes. Espera unos segundos y vuelve a intentarlo.",
        "unknown": "Entiendo los botones y los comandos: /help los muestra.",
        "error": "Algo falló por nuestra parte; no se cambió nada. Inténtalo de nuevo.",
        "unavailable": "La historia está tomando aire: inténtalo de nuevo en un momento.",
        "cmd_start": "Empezar o continuar la historia",
        "cmd_profile": "Tus puntos, nivel y progreso",
        "cmd_achievements": "Tus logros",
        "cmd_leaderboard": "Los mejores jugadores",
        "cmd_restart": "Empezar la historia de nuevo",
        "cmd_language": "Cambiar el idioma",
        "cmd_help": "Cómo jugar",
    },
}

LOCALES = tuple(STRINGS)
# How each language names itself (a content locale without the bot's own strings shows its
# story text, and these interface strings in English)
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch",
                  "it": "Italiano", "pt": "Português", "ru": "Русский", "uk": "Українська",
                  "ca": "Català", "gl": "Galego", "eu": "Euskara"}
PLAYER_COMMANDS = ("start", "profile", "achievements", "leaderboard", "restart", "language",
                   "help")


def t(locale: str, key: str, **values: Any) -> str:
    table = STRINGS.get(locale) or STRINGS["en"]
    template = table.get(key) or STRINGS["en"][key]
    return template.format(**values) if values else template


def pick_locale(language_code: str | None, available: tuple[str, ...], default: str) -> str:
    """The content locale for a Telegram language code (`es-MX` → `es`)."""
    if language_code:
        base = language_code.split("-")[0].lower()
        if base in available:
            return base
    return default
