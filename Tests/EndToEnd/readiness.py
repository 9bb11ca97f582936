"""Whether a server answers /health with 200: shared by the end-to-end fixtures and the image tests."""
import urllib.request


def is_ready(url):
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as response:
            return response.status == 200
    except Exception:
        return False
