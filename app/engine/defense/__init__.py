"""The defensive state machine: rules that decide a transition, and the actions that carry it out."""
