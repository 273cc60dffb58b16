"""One router per resource; ``api.app`` wires them with their auth dependencies."""
