"""The repository's Dockerfile and .dockerignore, read as Docker reads them: shared by the static checks
(test_deploy_docker.py) and the image built without Docker (Tests/Image)."""
import fnmatch
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(text=DOCKERFILE):
    """(instruction, arguments, stage index) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    stage = -1
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        word, _, rest = line.strip().partition(" ")
        if word == "FROM":
            stage += 1
        out.append((word, rest.strip(), stage))
    return out


def of(kind, stage=None):
    return [rest for word, rest, s in instructions() if word == kind and (stage is None or s == stage)]


def dockerignore_admits(path):
    """Whether .dockerignore lets `path` (relative, with slashes) into the build context (last match wins)."""
    admitted = True
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.replace("**/", "")) for p in prefixes):
            admitted = negate
    return admitted


def settings(line):
    """The variables one ENV instruction sets (its `K=V K=V` form)."""
    return {key: value.strip('"') for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', line)}


def environment(stage):
    """Every variable the ENV instructions of `stage` set."""
    env = {}
    for line in of("ENV", stage):
        env.update(settings(line))
    return env


def healthcheck_command(line):
    """The exec-form command of a HEALTHCHECK instruction's arguments (what follows its options)."""
    return json.loads(line[line.index("CMD ") + 4:])
