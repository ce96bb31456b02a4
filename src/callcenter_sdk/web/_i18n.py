"""The pages' words in English and French, and which language a request gets.

The language is the one the person picked with the switch (``?lang=fr``,
kept in the ``callcenter_lang`` cookie), else the first of the browser's
``Accept-Language`` we speak, else English. The same table labels the
server-rendered HTML and, as JSON in the page, what the script writes.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LANGUAGES", "TEXTS", "choose_language"]

LANG_COOKIE = "callcenter_lang"

LANGUAGES = ("en", "fr")
"""The languages of the pages, the default first."""

_EN: dict[str, str] = {
    "title_login": "Sign in",
    "title_desk": "Agent desktop",
    "title_wallboard": "Wallboard",
    "title_admin": "Administration",
    "person": "Login",
    "password": "Password",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "wrong_login": "Wrong login or password.",
    "position": "Position",
    "log_in_position": "Log in at this position",
    "log_out_position": "Leave the position",
    "no_position": "Not at a position",
    "ready": "Ready",
    "pause": "Pause",
    "reason": "Reason",
    "state": "State",
    "since": "Since",
    "offline": "Offline",
    "not_ready": "Not ready",
    "reserved": "Ringing",
    "busy": "On a call",
    "wrap_up": "Wrap-up",
    "ringing": "Ringing: answer on your phone",
    "reject": "Decline",
    "customer": "Customer",
    "caller": "Caller number",
    "unverified": "unverified number: confirm who is calling",
    "verified": "number verified by the network",
    "unknown_caller": "Unknown caller",
    "past_contacts": "Past contacts",
    "open_tickets": "Open tickets",
    "none": "none",
    "ticket": "Ticket",
    "elapsed": "Open for",
    "sla_first_response": "First response due in",
    "sla_resolution": "Resolution due in",
    "overdue": "overdue",
    "knowledge": "Knowledge base",
    "questions": "Questions to ask",
    "search": "Search",
    "hang_up": "Hang up",
    "transfer": "Transfer",
    "to_queue": "to queue",
    "to_number": "to number",
    "to_colleague": "consult a colleague",
    "complete": "Complete",
    "cancel": "Cancel",
    "note": "Note",
    "add_note": "Add note",
    "disposition": "Disposition",
    "dispose": "Dispose",
    "disposed": "Disposed",
    "wrap_up_left": "Wrap-up time left",
    "end_wrap_up": "End wrap-up",
    "escalate": "Escalate to level 2",
    "back_office": "Back office",
    "accept": "Take the next ticket",
    "accepted": "Working on",
    "contact": "Contact",
    "queue": "Queue",
    "queues": "Queues",
    "agents": "Agents",
    "waiting": "Waiting",
    "longest_wait": "Longest wait",
    "service_level": "Service level today",
    "service_level_interval": "This interval",
    "asa": "ASA",
    "abandon_rate": "Abandon rate",
    "short_abandons": "short abandons (not counted)",
    "answered": "Answered",
    "abandoned": "Abandoned",
    "by_state": "Agents by state",
    "current_contact": "Current contact",
    "alerts": "Alerts",
    "no_alerts": "No alert.",
    "alert_service_level": "service level under target",
    "alert_longest_wait": "a caller waits too long",
    "alert_stuck": "agent stuck in a state",
    "listen": "Listen",
    "whisper": "Whisper",
    "barge": "Barge",
    "your_phone": "Your phone",
    "monitoring": "Monitoring",
    "chart": "Service level by interval",
    "campaign": "Campaign",
    "seats": "Seats",
    "save_seats": "Allocate the seats picked",
    "free": "free",
    "taken_by": "allocated to",
    "saved": "Saved.",
    "nothing_to_manage": "You manage no campaign's seats.",
    "live": "live",
    "reconnecting": "reconnecting…",
    "desktop_lost_note": "Closing this page pauses you (desktop-lost) after a short grace time.",
    "dial": "Call",
    "dial_number": "Number to call",
    "dialling": "Your phone rings, then",
    "callback": "Call back",
    "callback_at": "When",
    "schedule_callback": "Schedule the callback",
    "callback_scheduled": "Callback scheduled",
    "take_over": "Take over",
    "teams": "Teams",
    "team": "Team",
    "floor": "Floor",
    "supervisor": "Supervisor",
    "all_teams": "All teams",
    "taking_over": "Taking over",
}

_FR: dict[str, str] = {
    "title_login": "Connexion",
    "title_desk": "Poste de l'agent",
    "title_wallboard": "Tableau de bord",
    "title_admin": "Administration",
    "person": "Identifiant",
    "password": "Mot de passe",
    "sign_in": "Se connecter",
    "sign_out": "Se déconnecter",
    "wrong_login": "Identifiant ou mot de passe incorrect.",
    "position": "Position",
    "log_in_position": "S'installer à cette position",
    "log_out_position": "Quitter la position",
    "no_position": "Pas de position",
    "ready": "Prêt",
    "pause": "Pause",
    "reason": "Motif",
    "state": "État",
    "since": "Depuis",
    "offline": "Déconnecté",
    "not_ready": "En pause",
    "reserved": "Sonnerie",
    "busy": "En appel",
    "wrap_up": "Post-appel",
    "ringing": "Appel entrant : décrochez votre téléphone",
    "reject": "Refuser",
    "customer": "Client",
    "caller": "Numéro appelant",
    "unverified": "numéro non vérifié : confirmez l'identité",
    "verified": "numéro vérifié par le réseau",
    "unknown_caller": "Appelant inconnu",
    "past_contacts": "Contacts précédents",
    "open_tickets": "Tickets ouverts",
    "none": "aucun",
    "ticket": "Ticket",
    "elapsed": "Ouvert depuis",
    "sla_first_response": "Première réponse dans",
    "sla_resolution": "Résolution dans",
    "overdue": "en retard",
    "knowledge": "Base de connaissances",
    "questions": "Questions à poser",
    "search": "Rechercher",
    "hang_up": "Raccrocher",
    "transfer": "Transférer",
    "to_queue": "vers la file",
    "to_number": "vers le numéro",
    "to_colleague": "consulter un collègue",
    "complete": "Terminer",
    "cancel": "Annuler",
    "note": "Note",
    "add_note": "Ajouter la note",
    "disposition": "Qualification",
    "dispose": "Qualifier",
    "disposed": "Qualifié",
    "wrap_up_left": "Temps de post-appel restant",
    "end_wrap_up": "Finir le post-appel",
    "escalate": "Escalader au niveau 2",
    "back_office": "Back-office",
    "accept": "Prendre le ticket suivant",
    "accepted": "En cours",
    "contact": "Contact",
    "queue": "File",
    "queues": "Files",
    "agents": "Agents",
    "waiting": "En attente",
    "longest_wait": "Attente la plus longue",
    "service_level": "Niveau de service du jour",
    "service_level_interval": "Cet intervalle",
    "asa": "Délai moyen de réponse",
    "abandon_rate": "Taux d'abandon",
    "short_abandons": "abandons courts (non comptés)",
    "answered": "Répondus",
    "abandoned": "Abandonnés",
    "by_state": "Agents par état",
    "current_contact": "Contact en cours",
    "alerts": "Alertes",
    "no_alerts": "Aucune alerte.",
    "alert_service_level": "niveau de service sous l'objectif",
    "alert_longest_wait": "un appelant attend trop longtemps",
    "alert_stuck": "agent bloqué dans un état",
    "listen": "Écouter",
    "whisper": "Souffler",
    "barge": "Intervenir",
    "your_phone": "Votre téléphone",
    "monitoring": "Écoute",
    "chart": "Niveau de service par intervalle",
    "campaign": "Campagne",
    "seats": "Positions",
    "save_seats": "Attribuer les positions choisies",
    "free": "libre",
    "taken_by": "attribuée à",
    "saved": "Enregistré.",
    "nothing_to_manage": "Vous ne gérez les positions d'aucune campagne.",
    "live": "en direct",
    "reconnecting": "reconnexion…",
    "desktop_lost_note": (
        "Fermer cette page vous met en pause (desktop-lost) après un court délai de grâce."
    ),
    "dial": "Appeler",
    "dial_number": "Numéro à appeler",
    "dialling": "Votre téléphone sonne, puis",
    "callback": "Rappel",
    "callback_at": "Quand",
    "schedule_callback": "Programmer le rappel",
    "callback_scheduled": "Rappel programmé",
    "take_over": "Reprendre l'appel",
    "teams": "Équipes",
    "team": "Équipe",
    "floor": "Plateau",
    "supervisor": "Superviseur",
    "all_teams": "Toutes les équipes",
    "taking_over": "Reprise de l'appel",
}

TEXTS: Mapping[str, Mapping[str, str]] = {"en": _EN, "fr": _FR}
"""Every label of the pages, per language (the same keys in each)."""


def choose_language(
    asked: str | None, cookie: str | None, accept_language: str | None
) -> tuple[str, bool]:
    """The language of a page, and whether it was just picked (to remember it in the cookie).

    Args:
        asked: ``?lang=`` from the switch.
        cookie: The language picked before.
        accept_language: The browser's ``Accept-Language`` header.
    """
    if asked is not None and asked in TEXTS:
        return asked, True
    if cookie is not None and cookie in TEXTS:
        return cookie, False
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in TEXTS and weight > 0:
            ranked.append((-weight, i, language))
    return (min(ranked)[2], False) if ranked else (LANGUAGES[0], False)
