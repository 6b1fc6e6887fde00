"""The Telegram front end (aiogram 3). It holds no game logic: updates become engine and
store calls, outcomes become messages."""
