"""The agent's tools: ``patch`` (apply_patch), ``shell`` (commands, run under ``sandbox``),
``commands`` (which commands only read) and ``plan`` (update_plan). Each module exports the tool
definition sent to the model and the code that carries a call out."""
