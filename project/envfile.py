"""Write a `.env` for a new installation: `.env.example` with fresh SECRET_KEY and
FIELD_ENCRYPTION_KEY. Never overwrites an existing file (it holds the key to stored secrets)."""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def render(example):
    fresh = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={fresh[name]}" if name in fresh and not line.startswith("#") else line)
    return "\n".join(lines) + "\n"


def main(target):
    path = Path(target)
    if path.exists():
        print(f"{path} exists; keeping it.")
        return
    path.write_text(render((ROOT / ".env.example").read_text()))
    path.chmod(0o600)
    print(
        f"Wrote {path} with a fresh SECRET_KEY and FIELD_ENCRYPTION_KEY. Back it up: without "
        "FIELD_ENCRYPTION_KEY the stored secrets cannot be read."
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".env")
