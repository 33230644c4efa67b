"""The inspector at /_sandbox/ui: server-rendered pages (and the same data as JSON) over the
sandbox's state, live updates over server-sent events, and buttons that call the control API."""
