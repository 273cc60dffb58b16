"""voc-lens HTTP service: FastAPI app factory in ``api.app``."""
