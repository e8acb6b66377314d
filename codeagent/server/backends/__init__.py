"""Model backends: what produces a response's items. Today a scripted model; the interface
(:class:`~codeagent.server.backends.base.Backend`) leaves room for an OpenAI-compatible upstream."""
