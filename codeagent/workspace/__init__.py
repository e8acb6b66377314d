"""The user's repository: the only code that changes files or git state."""
