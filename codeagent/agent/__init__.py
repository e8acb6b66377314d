"""The agent: conversation state, the turn loop, tools and approvals. Imports no Textual."""
