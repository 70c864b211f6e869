"""File > Replay...: replaying historical bars through the engine from the window."""
