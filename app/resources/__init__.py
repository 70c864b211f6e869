"""Files the program ships: the style sheet and the simulator's demo scenario (read with importlib.resources)."""
