"""The prompts the library ships, with the words each one says.

The texts are the single source for ``tools/make_prompts.py``, which speaks
them with espeak-ng and stores 8 kHz mono 16-bit WAV files under
``callcenter_sdk/ivr/prompts/<lang>/<name>.wav``. A deployment that records
its own voice talent reads this table as the script to record, then points
its flows at its own directory (same names, same layout).

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["LANGUAGES", "LIBRARY_PROMPTS", "MAX_NUMBER_PROMPT", "TONE_PROMPTS"]

LANGUAGES: tuple[str, ...] = ("en", "fr")
"""The languages the library ships prompts for."""

MAX_NUMBER_PROMPT = 100
"""Numbers ``0`` .. ``MAX_NUMBER_PROMPT`` each have a prompt named by their digits."""

TONE_PROMPTS: Mapping[str, tuple[int, float]] = MappingProxyType({"beep": (1000, 0.3)})
"""Prompts that are tones, not words: name -> (frequency Hz, seconds)."""

_WORDS: dict[str, tuple[str, str]] = {
    # name: (English, French)
    "hundred": ("hundred", "cent"),
    "hundreds": ("hundred", "cents"),
    "thousand": ("thousand", "mille"),
    "one_feminine": ("one", "une"),
    "minute": ("minute", "minute"),
    "minutes": ("minutes", "minutes"),
    "about": ("about", "environ"),
    "more_than": ("more than", "plus de"),
    "less_than_one_minute": ("less than one minute", "moins d'une minute"),
    "you_are_caller_number": ("You are caller number", "Vous êtes l'appelant numéro"),
    "you_are_next": ("You are next in line.", "Vous êtes le prochain."),
    "estimated_wait": ("The estimated waiting time is", "Le temps d'attente estimé est de"),
    "welcome": ("Welcome.", "Bienvenue."),
    "choose_language": ("For English, press 1.", "Pour le français, tapez 2."),
    "invalid_choice": ("Sorry, that is not a valid choice.", "Désolé, ce choix n'est pas valide."),
    "no_input": (
        "Sorry, we did not receive your choice.",
        "Désolé, nous n'avons pas reçu votre choix.",
    ),
    "enter_number": (
        "Please enter your customer number, followed by the pound key.",
        "Veuillez saisir votre numéro client, suivi de la touche dièse.",
    ),
    "please_hold": (
        "Please hold, an agent will answer you shortly.",
        "Merci de patienter, un conseiller va vous répondre.",
    ),
    "all_agents_busy": (
        "All our agents are currently busy.",
        "Tous nos conseillers sont actuellement occupés.",
    ),
    "transferring": (
        "Please wait while we transfer your call.",
        "Veuillez patienter, nous transférons votre appel.",
    ),
    "callback_offer": (
        "To be called back without losing your place, press 1. To keep waiting, press 2.",
        "Pour être rappelé sans perdre votre place, tapez 1. Pour patienter, tapez 2.",
    ),
    "callback_confirmed": (
        "Thank you. We will call you back as soon as an agent is available.",
        "Merci. Nous vous rappellerons dès qu'un conseiller sera disponible.",
    ),
    "callback_refused": (
        "Sorry, we cannot call you back on this number. Please keep waiting.",
        "Désolé, nous ne pouvons pas vous rappeler sur ce numéro. Merci de patienter.",
    ),
    "voicemail": (
        "Please leave your message after the tone, then press the pound key.",
        "Veuillez laisser votre message après le bip, puis tapez dièse.",
    ),
    "voicemail_saved": (
        "Your message has been recorded. We will get back to you.",
        "Votre message a été enregistré. Nous reviendrons vers vous.",
    ),
    "closed": ("Our offices are currently closed.", "Nos bureaux sont actuellement fermés."),
    "holiday": (
        "Our offices are closed today for a public holiday.",
        "Nos bureaux sont fermés aujourd'hui, jour férié.",
    ),
    "goodbye": ("Thank you for calling. Goodbye.", "Merci de votre appel. Au revoir."),
}


def _table() -> Mapping[str, Mapping[str, str]]:
    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for n in range(MAX_NUMBER_PROMPT + 1):
        for lang in LANGUAGES:
            out[lang][str(n)] = str(n)  # espeak-ng reads digits as words in each language
    for name, texts in _WORDS.items():
        for lang, text in zip(LANGUAGES, texts, strict=True):
            out[lang][name] = text
    return MappingProxyType({lang: MappingProxyType(names) for lang, names in out.items()})


LIBRARY_PROMPTS: Mapping[str, Mapping[str, str]] = _table()
"""``LIBRARY_PROMPTS[lang][name]`` is what the shipped prompt ``name`` says (tones excluded)."""
