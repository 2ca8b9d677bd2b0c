"""`devtools/make_env.py`, which `make run` calls: the development `.env` is written once and kept, but for the
stand-in's port and address that `make run` chose for the run, which it records so later commands agree."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_env(target: Path, *settings: str) -> str:
    done = subprocess.run([sys.executable, "devtools/make_env.py", str(target), *settings], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout


def settings(target: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in target.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            found.setdefault(name, []).append(value)
    return found


def test_a_fresh_env_has_fresh_keys_and_the_default_stand_in(tmp_path):
    env = tmp_path / ".env"
    assert "Wrote" in make_env(env)
    written = settings(env)
    assert written["STRIPE_STANDIN_PORT"] == ["12111"]
    assert written["STRIPE_API_BASE"] == ["http://127.0.0.1:12111"]
    assert written["STRIPE_SECRET_KEY"][0].startswith("sk_test_demo") and len(written["SECRET_KEY"][0]) > 40

    before = env.read_text()
    assert make_env(env) == ""
    assert env.read_text() == before  # kept as it is


def test_the_stand_in_chosen_for_a_run_is_recorded_and_nothing_else_changes(tmp_path):
    env = tmp_path / ".env"
    make_env(env)
    before = settings(env)

    said = make_env(env, "STRIPE_STANDIN_PORT=12112", "STRIPE_API_BASE=http://127.0.0.1:12112")

    assert "STRIPE_STANDIN_PORT=12112" in said and "STRIPE_API_BASE=http://127.0.0.1:12112" in said
    after = settings(env)
    assert after["STRIPE_STANDIN_PORT"] == ["12112"]
    assert after["STRIPE_API_BASE"] == ["http://127.0.0.1:12112"]
    assert {k: v for k, v in after.items() if not k.startswith("STRIPE_")} == \
        {k: v for k, v in before.items() if not k.startswith("STRIPE_")}
    assert after["STRIPE_SECRET_KEY"] == before["STRIPE_SECRET_KEY"]
    # The same port again changes nothing and says nothing.
    text = env.read_text()
    assert make_env(env, "STRIPE_STANDIN_PORT=12112", "STRIPE_API_BASE=http://127.0.0.1:12112") == ""
    assert env.read_text() == text


def test_an_older_env_missing_or_repeating_the_setting_gets_one_value(tmp_path):
    env = tmp_path / ".env"
    env.write_text('SECRET_KEY=kept\nSTRIPE_API_BASE="http://127.0.0.1:12111"\nSTRIPE_API_BASE=http://127.0.0.1:12111\n')

    make_env(env, "STRIPE_API_BASE=http://127.0.0.1:12111", "STRIPE_STANDIN_PORT=12111")
    written = settings(env)
    assert written["SECRET_KEY"] == ["kept"]
    assert written["STRIPE_API_BASE"] == ['"http://127.0.0.1:12111"', "http://127.0.0.1:12111"]  # already so
    assert written["STRIPE_STANDIN_PORT"] == ["12111"]

    make_env(env, "STRIPE_API_BASE=http://127.0.0.1:12113")
    assert settings(env)["STRIPE_API_BASE"] == ["http://127.0.0.1:12113", "http://127.0.0.1:12113"]
