"""A Bot API emulator for tests: real HTTP on loopback, Telegram's limits and errors, and
a user side (send text, press buttons, read the chat) for the test to drive."""

from bot.testing.emulator import ApiError, Emulator, EmulatorThread, Message

__all__ = ["ApiError", "Emulator", "EmulatorThread", "Message"]
