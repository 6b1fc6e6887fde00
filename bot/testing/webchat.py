"""A web chat page on the emulator's server, for playing a story locally (`diana bot
dev`): one local user's chat with the bot. The page polls a JSON endpoint and shows the
bot's messages and inline buttons; typing sends a message and tapping a button presses
it, through the emulator's user side, so the bot sees the updates Telegram would send.

    GET  /                 the page
    GET  /chat/state       {"messages": [...], "answers": [...]}
    POST /chat/send        {"text": "..."}                    -> {"update_id": n}
    POST /chat/press       {"message_id": n, "data": "..."}   -> {"update_id", "query_id"}
    GET  /chat/photo/{id}  a photo the bot sent
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.testing.emulator import MAX_TEXT, Emulator

ANSWERS_KEPT = 20  # the page needs only the answers it has not shown yet


@dataclass(frozen=True)
class LocalUser:
    id: int
    first_name: str
    language: str = "en"


def add_chat(app: web.Application, emu: Emulator, user: LocalUser) -> None:
    """The page and its endpoints, for `user`, on the emulator's aiohttp application."""
    emu.user(user.id, user.first_name, user.language)
    chat = _Chat(emu, user.id)
    app.router.add_get("/", chat.page)
    app.router.add_get("/chat/state", chat.state)
    app.router.add_post("/chat/send", chat.send)
    app.router.add_post("/chat/press", chat.press)
    app.router.add_get("/chat/photo/{message_id}", chat.photo)


def _refuse(why: str) -> web.Response:
    return web.json_response({"error": why}, status=400)


async def _body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class _Chat:
    def __init__(self, emu: Emulator, user_id: int) -> None:
        self.emu = emu
        self.user_id = user_id

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def state(self, request: web.Request) -> web.Response:
        messages = [{
            "id": m.message_id, "from": m.sender, "text": m.shown, "edited": m.edits > 0,
            "photo": (f"/chat/photo/{m.message_id}" if isinstance(m.photo, bytes) else None),
            "buttons": [[{"text": b.get("text", ""), "data": b.get("callback_data"),
                          "url": b.get("url")} for b in row] for row in m.buttons()],
        } for m in self.emu.transcript(self.user_id)]
        with self.emu.lock:
            answered = [q for q in self.emu.queries.values()
                        if q.user_id == self.user_id and q.answered is not None]
        answers = [{"id": q.id, "text": q.answered["text"],  # type: ignore[index]
                    "show_alert": q.answered["show_alert"]}  # type: ignore[index]
                   for q in answered[-ANSWERS_KEPT:]]
        return web.json_response({"messages": messages, "answers": answers})

    async def send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _refuse("the body must be a JSON object")
        text = body.get("text")
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_TEXT:
            return _refuse(f"text must be 1 to {MAX_TEXT} characters")
        return web.json_response({"update_id": self.emu.send_text(self.user_id, text)})

    async def press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        if body is None:
            return _refuse("the body must be a JSON object")
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            return _refuse("message_id must be a number and data a string")
        try:
            update_id, query_id = self.emu.press(self.user_id, message_id, data)
        except KeyError as exc:  # the message, or the button on it, is gone
            return _refuse(str(exc.args[0]))
        return web.json_response({"update_id": update_id, "query_id": query_id})

    async def photo(self, request: web.Request) -> web.Response:
        wanted = request.match_info["message_id"]
        for m in self.emu.transcript(self.user_id):
            if str(m.message_id) == wanted and isinstance(m.photo, bytes):
                kind = ("image/png" if m.photo.startswith(b"\x89PNG") else "image/jpeg"
                        if m.photo.startswith(b"\xff\xd8") else "application/octet-stream")
                return web.Response(body=m.photo, content_type=kind)
        raise web.HTTPNotFound()


# The page: plain text only (textContent), so nothing the bot sends can run as script.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Diana: local chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 0; background: #e8edf2; }
  header { position: sticky; top: 0; background: #517da2; color: #fff; padding: .6rem 1rem; }
  #log { max-width: 42rem; margin: 0 auto; padding: .5rem 1rem 5rem; }
  .msg { white-space: pre-wrap; padding: .5rem .75rem; border-radius: .6rem;
         margin: .4rem 0; max-width: 85%; width: fit-content; background: #fff; }
  .user { margin-left: auto; background: #dcf8c6; }
  .msg img { max-width: 100%; display: block; margin-bottom: .3rem; }
  .kb div { display: flex; gap: .3rem; margin-top: .3rem; }
  .kb button { flex: 1; padding: .4rem; border: 0; border-radius: .4rem;
               background: #dfe9f3; color: #24527a; cursor: pointer; font: inherit; }
  .kb button:hover { background: #cbdcec; }
  form { position: fixed; bottom: 0; left: 0; right: 0; display: flex; gap: .5rem;
         padding: .6rem; background: #fff; box-shadow: 0 -1px 4px #0002; }
  form input { flex: 1; font: inherit; padding: .4rem .6rem; }
  #toast { position: fixed; top: 3.5rem; left: 50%; transform: translateX(-50%);
           background: #333d; color: #fff; padding: .6rem 1rem; border-radius: .5rem;
           max-width: 30rem; display: none; white-space: pre-wrap; }
</style>
</head>
<body>
<header>Diana: your story's bot, played locally. Send /start to begin.</header>
<div id="log"></div>
<div id="toast"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="Message or /command"
  autofocus><button>Send</button></form>
<script>
const log = document.getElementById("log");
const toast = document.getElementById("toast");
let shownState = "";
const shownAnswers = new Set();
let first = true;

function say(text, alert) {
  if (alert) { window.alert(text); return; }
  toast.textContent = text;
  toast.style.display = "block";
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { toast.style.display = "none"; }, 2500);
}

function render(messages) {
  const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  log.replaceChildren();
  for (const m of messages) {
    const box = document.createElement("div");
    box.className = "msg " + m.from;
    if (m.photo) {
      const img = document.createElement("img");
      img.src = m.photo;
      box.append(img);
    }
    box.append(document.createTextNode(m.text));
    if (m.buttons.length) {
      const kb = document.createElement("div");
      kb.className = "kb";
      for (const row of m.buttons) {
        const line = document.createElement("div");
        for (const b of row) {
          const button = document.createElement("button");
          button.textContent = b.text;
          if (b.data !== null) button.onclick = () => press(m.id, b.data);
          else if (b.url) button.onclick = () => window.open(b.url, "_blank");
          line.append(button);
        }
        kb.append(line);
      }
      box.append(kb);
    }
    log.append(box);
  }
  if (atBottom) window.scrollTo(0, document.body.scrollHeight);
}

async function refresh() {
  try {
    const state = await (await fetch("/chat/state")).json();
    const key = JSON.stringify(state.messages);
    if (key !== shownState) { shownState = key; render(state.messages); }
    for (const a of state.answers) {
      if (shownAnswers.has(a.id)) continue;
      shownAnswers.add(a.id);
      if (a.text && !first) say(a.text, a.show_alert);
    }
    first = false;
  } catch (e) {
    say("The local server does not answer: is `diana bot dev` still running?");
  }
}

async function post(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify(body)});
  if (!r.ok) say((await r.json()).error);
  refresh();
}

function press(messageId, data) { post("/chat/press", {message_id: messageId, data: data}); }

document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  if (input.value.trim()) post("/chat/send", {text: input.value});
  input.value = "";
};
setInterval(refresh, 500);
refresh();
</script>
</body>
</html>
"""
