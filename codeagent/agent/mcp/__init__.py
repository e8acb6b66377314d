"""Model Context Protocol servers: their configuration (``server_config``), one connection each
(``client``), the set of them for a session (``manager``) and their tools as function tools
(``tool_adapter``). The client side is the official ``mcp`` SDK."""
