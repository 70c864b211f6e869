"""Alerts: what a notice says (notices), its sound (sounds), quiet hours and the push to a phone (push).
Pure Python, no Qt: the window and the tray show notices, these decide and deliver them."""
