"""Write a development `.env` once, with a random SECRET_KEY and ENCRYPTION_KEY that later runs keep."""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

target = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if target.exists():
    sys.exit(0)
example = Path(__file__).resolve().parent.parent / ".env.example"
lines = []
for line in example.read_text().splitlines():
    if line.startswith("SECRET_KEY="):
        line = f"SECRET_KEY={secrets.token_urlsafe(48)}"
    elif line.startswith("ENCRYPTION_KEY="):
        line = f"ENCRYPTION_KEY={Fernet.generate_key().decode()}"
    lines.append(line)
target.write_text("\n".join(lines) + "\n")
print(f"Wrote {target} with fresh development keys (kept for later runs).")
