"""The Textual front end. Renders AgentEvents and collects approvals; never opens a socket."""
