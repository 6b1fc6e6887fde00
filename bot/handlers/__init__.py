"""aiogram routers: one per feature, each built by a function (a Router joins one
Dispatcher only)."""
