"""Regenerate the prompt WAV files shipped with callcenter_sdk (and the hotline example's).

Speaks every text of ``callcenter_sdk.ivr._catalog.LIBRARY_PROMPTS`` with
espeak-ng, then resamples with sox to 8 kHz mono 16-bit PCM (what the media
bridge plays for G.711) and trims leading and trailing silence to keep the
files small. Needs the Debian packages ``espeak-ng`` and ``sox``; the
generated files are committed, so tests and users never need them.

Usage::

    python tools/make_prompts.py            # library prompts + examples/hotline/prompts
    python tools/make_prompts.py --check    # only report missing files, generate nothing
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from callcenter_sdk.ivr._catalog import LIBRARY_PROMPTS, TONE_PROMPTS  # noqa: E402

LIBRARY_DIR = ROOT / "src" / "callcenter_sdk" / "ivr" / "prompts"
HOTLINE_DIR = ROOT / "examples" / "hotline" / "prompts"

VOICES = {"en": "en-us", "fr": "fr-fr"}
SPEED = 165  # words per minute: a little brisker than espeak's default keeps files short

HOTLINE_PROMPTS: dict[str, dict[str, str]] = {
    "en": {
        "hotline_welcome": "Welcome to the technical hotline.",
        "hotline_menu": (
            "For internet, press 1. For television, press 2. For billing, press 3. "
            "To speak to an agent, press 0."
        ),
        "hotline_hours": (
            "The hotline is open Monday to Friday from 8 a.m. to 8 p.m., "
            "and on Saturday from 9 a.m. to 1 p.m."
        ),
        "hotline_premium": "As a premium customer, your call is handled with priority.",
    },
    "fr": {
        "hotline_welcome": "Bienvenue sur la hotline technique.",
        "hotline_menu": (
            "Pour internet, tapez 1. Pour la télévision, tapez 2. Pour la facturation, tapez 3. "
            "Pour parler à un conseiller, tapez 0."
        ),
        "hotline_hours": (
            "La hotline est ouverte du lundi au vendredi de 8 heures à 20 heures, "
            "et le samedi de 9 heures à 13 heures."
        ),
        "hotline_premium": "En tant que client premium, votre appel est traité en priorité.",
    },
}


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True)  # noqa: S603 - fixed tool names, our own arguments


def _speak(lang: str, text: str, out: Path, scratch: Path) -> None:
    raw = scratch / "raw.wav"
    _run("espeak-ng", "-v", VOICES[lang], "-s", str(SPEED), "-w", str(raw), text)
    # 8 kHz mono 16-bit, silence trimmed at both ends (reverse trick), 40 ms of air kept.
    _run("sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
         str(out), "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%",
         "reverse", "pad", "0.02", "0.02")  # fmt: skip


def _tone(freq: int, seconds: float, out: Path) -> None:
    _run("sox", "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out),
         "synth", str(seconds), "sine", str(freq), "vol", "0.5")  # fmt: skip


def generate(base: Path, table: dict[str, dict[str, str]], *, tones: bool) -> int:
    """Write every prompt of ``table`` under ``base/<lang>/``; return how many were written."""
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for lang, names in table.items():
            folder = base / lang
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in sorted(names.items()):
                _speak(lang, text, folder / f"{name}.wav", scratch)
                count += 1
            if tones:
                for name, (freq, seconds) in TONE_PROMPTS.items():
                    _tone(freq, seconds, folder / f"{name}.wav")
                    count += 1
    return count


def main() -> int:
    """Generate (or with ``--check`` list missing) prompt files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list missing files")
    args = parser.parse_args()
    tables = [(LIBRARY_DIR, {k: dict(v) for k, v in LIBRARY_PROMPTS.items()}, True),
              (HOTLINE_DIR, HOTLINE_PROMPTS, False)]  # fmt: skip
    if args.check:
        missing = [
            base / lang / f"{name}.wav"
            for base, table, _ in tables
            for lang, names in table.items()
            for name in names
            if not (base / lang / f"{name}.wav").is_file()
        ]
        for path in missing:
            print(f"missing: {path.relative_to(ROOT)}")
        return 1 if missing else 0
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install -y espeak-ng sox", file=sys.stderr)
            return 2
    for base, table, tones in tables:
        written = generate(base, table, tones=tones)
        size = sum(p.stat().st_size for p in base.rglob("*.wav"))
        print(f"{base.relative_to(ROOT)}: {written} files, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
