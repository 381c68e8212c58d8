"""The FastAPI side of commons: exception handlers and the application factory."""
