"""The commands the pages gained with the runtime's 0.2 operations.

Click-to-dial, scheduling a callback and answering desk work (an e-mail, a
chat) at the desk, taking a call over at the wallboard, taking seats back
from a campaign at the admin page. Like every command of :class:`~callcenter_sdk.web._api.Api`
they act as the authenticated person and leave every permission check to
the runtime, whose refusals answer as the API's other errors do (a
:class:`~callcenter_sdk.OutboundDenied` number is a 403, a time in the past
a 422).

Each endpoint's docstring ends with its OpenAPI fragment.

.. versionadded:: 0.2
"""

from __future__ import annotations

import math
from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._errors import ValidationError
from ..acd import LIVE_QUEUE_SETTINGS, Queue
from ..runtime import ScriptStep
from ._api import Api, _body, _text

__all__ = ["Commands"]


class Commands:
    """Click-to-dial, callbacks, replies, take-over and seat release, as the person asking.

    Args:
        api: The API (who asks, the running center).
    """

    def __init__(self, api: Api) -> None:
        self.api = api

    async def click_to_dial(self, request: Request) -> Response:
        """Call a customer from the person's own phone: it rings first, then the number.

        The person is paused (``click-to-dial``) while the call lasts.

        ---
        summary: Click-to-dial
        tags: [agents]
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [number], properties: {number: {type: string}}}
        responses:
          200: {description: "{call_id}: the person's own leg, ringing now."}
          403: {description: The person may not dial, or the outbound policy refuses the number.}
          404: {description: The person has no phone (no seat, no position).}
          409: {description: The person is offline, ringing or on a call.}
        """
        who = (await self.api.identify(request)).person
        number = _text(await _body(request), "number")
        leg = await self.api.center.click_to_dial(number, actor=who)
        return JSONResponse({"ok": True, "call_id": leg})

    async def schedule_callback(self, request: Request) -> Response:
        """Promise the contact's customer a call back on ``number`` at ``at``.

        ``at`` is in seconds since the epoch on the center's clock (the
        ``now`` of ``/api/desk``). The promise is stored before the answer.

        ---
        summary: Schedule a callback
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [number, at]
                properties:
                  number: {type: string}
                  at: {type: number, description: "When, in seconds since the epoch."}
        responses:
          200: {description: The callback is stored; it joins the contact's queue when due.}
          403: {description: The person may not handle the contact, or the number is refused.}
          404: {description: The contact is not live here nor awaiting its disposition.}
          422: {description: "at is missing, in the past or more than 90 days ahead."}
          503: {description: The callback could not be stored; nothing was promised.}
        """
        who = (await self.api.identify(request)).person
        body = await _body(request)
        number = _text(body, "number")
        at = body.get("at")
        if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
            raise ValidationError("at must be a time in seconds since the epoch")
        contact = request.path_params["contact"]
        await self.api.center.schedule_callback(contact, number, float(at), actor=who)
        return JSONResponse({"ok": True})

    async def take_over(self, request: Request) -> Response:
        """Ring the person's phone; once answered they replace the agent on the call.

        ---
        summary: Take over an agent's call
        tags: [agents]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [device]
                properties:
                  device: {type: string, description: "The SIP URI of the person's phone."}
        responses:
          200: {description: "{call_id}: the person's leg; the agent leaves once it answers."}
          403: {description: The person may not barge on the agent or handle the contact.}
          409: {description: The agent is not on a call.}
        """
        who = (await self.api.identify(request)).person
        device = _text(await _body(request), "device")
        agent = request.path_params["agent"]
        leg = await self.api.center.take_over(agent, actor=who, device=device)
        return JSONResponse({"ok": True, "call_id": leg})

    async def reply(self, request: Request) -> Response:
        """Answer the customer of desk work (an e-mail, a chat, a message) through its channel.

        ---
        summary: Reply to desk work
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [text], properties: {text: {type: string}}}
        responses:
          200: {description: "{message_id}: the channel's id of the message sent."}
          403: {description: The person may not handle the contact.}
          404: {description: No such desk work here.}
          409: {description: No adapter carries the contact's channel.}
        """
        who = (await self.api.identify(request)).person
        text = _text(await _body(request), "text")
        contact = request.path_params["contact"]
        message = await self.api.center.reply(contact, text, actor=who)
        return JSONResponse({"ok": True, "message_id": message})

    async def release_seats(self, request: Request) -> Response:
        """Take seats (numbers in the campaign's center) back from a campaign (administrators).

        ---
        summary: Release a campaign's seats
        tags: [campaigns]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [seats]
                properties: {seats: {type: array, items: {type: integer}}}
        responses:
          200: {description: Done; nobody of the campaign may log in there any more.}
          403: {description: The person may not manage this campaign's seats.}
        """
        who = (await self.api.identify(request)).person
        seats = (await _body(request)).get("seats")
        if not isinstance(seats, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in seats
        ):
            raise ValidationError("seats must be a list of seat numbers")
        campaign = request.path_params["campaign"]
        await self.api.center.release_seats(campaign, seats, actor=who)
        return JSONResponse({"ok": True})

    async def stop_campaign(self, request: Request) -> Response:
        """Stop a campaign taking calls (administrators, floor managers, its project manager).

        Callers to its numbers and queues hear the closed prompt; what waits
        in its queues is still served. Kept across restarts.

        ---
        summary: Stop a campaign
        tags: [campaigns]
        responses:
          200: {description: Stopped (or already stopped).}
          403: {description: The person may not manage this campaign.}
          404: {description: No such campaign.}
        """
        who = (await self.api.identify(request)).person
        await self.api.center.stop_campaign(request.path_params["campaign"], actor=who)
        return JSONResponse({"ok": True})

    async def start_campaign(self, request: Request) -> Response:
        """Let a stopped campaign take calls again.

        ---
        summary: Start a campaign
        tags: [campaigns]
        responses:
          200: {description: Taking calls (or already was).}
          403: {description: The person may not manage this campaign.}
          404: {description: No such campaign.}
        """
        who = (await self.api.identify(request)).person
        await self.api.center.start_campaign(request.path_params["campaign"], actor=who)
        return JSONResponse({"ok": True})

    async def configure_queue(self, request: Request) -> Response:
        """Change a running queue's settings (those ``acd.LIVE_QUEUE_SETTINGS`` names).

        ---
        summary: Change a queue's settings
        tags: [queues]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [settings]
                properties:
                  settings:
                    type: object
                    description: >-
                      Any of offer_timeout, wrap_up, max_wait, service_level_threshold,
                      max_length, retry, announce_every: a number, or null to unset.
                    additionalProperties: {type: number, nullable: true}
        responses:
          200: {description: "The queue's settings now: {queue, settings}."}
          403: {description: The person may not configure routing for this queue's campaign.}
          404: {description: No such queue.}
          422: {description: A setting that cannot change live, or a bad value.}
        """
        who = (await self.api.identify(request)).person
        settings = (await _body(request)).get("settings")
        if not isinstance(settings, dict) or not settings:
            raise ValidationError("settings must be an object of setting names and numbers")
        queue = await self.api.center.configure_queue(
            request.path_params["queue"], settings, actor=who
        )
        return JSONResponse({"queue": queue.name, "settings": live_settings(queue)})

    async def typing(self, request: Request) -> Response:
        """The agent is writing to the customer: the chat shows "typing…" (a hint, not stored).

        ---
        summary: Show the customer the agent is typing
        tags: [contacts]
        responses:
          200: {description: "{shown}: whether the contact's channel shows it."}
          403: {description: The person does not handle this contact.}
          404: {description: No desk work with that id.}
        """
        who = (await self.api.identify(request)).person
        shown = self.api.center.typing(request.path_params["contact"], actor=who)
        return JSONResponse({"shown": shown})

    async def script(self, request: Request) -> Response:
        """The current step of the campaign's script on a contact the person handles.

        ---
        summary: The script's current step
        tags: [contacts]
        responses:
          200:
            description: >-
              {contact_id, questionnaire, title, question, kind, text, required, choices,
              minimum, maximum, answers, done, converted}.
          403: {description: The person does not handle this contact.}
          404: {description: The contact's campaign has no script.}
        """
        who = (await self.api.identify(request)).person
        step = self.api.center.script(request.path_params["contact"], actor=who)
        return JSONResponse(_step(step))

    async def answer_script(self, request: Request) -> Response:
        """Answer the script's current step, or pass it (``skip``); answers are logged.

        ---
        summary: Answer the script
        tags: [contacts]
        requestBody:
          content:
            application/json:
              schema:
                type: object
                properties:
                  answer: {type: string}
                  skip: {type: boolean, description: Pass an information or optional step.}
        responses:
          200: {description: The next step (as GET).}
          403: {description: The person does not handle this contact.}
          404: {description: The contact's campaign has no script.}
          409: {description: The script has ended.}
          422: {description: Not an answer this step accepts, or a required step skipped.}
        """
        who = (await self.api.identify(request)).person
        body = await _body(request)
        contact = request.path_params["contact"]
        if body.get("skip") is True:
            step = self.api.center.skip_script(contact, actor=who)
        else:
            step = self.api.center.answer_script(contact, _text(body, "answer"), actor=who)
        return JSONResponse(_step(step))


def _step(step: ScriptStep) -> dict[str, Any]:
    """A script step as JSON."""
    return {**attrs.asdict(step), "answers": dict(step.answers), "choices": list(step.choices)}


def live_settings(queue: Queue) -> dict[str, float | int | None]:
    """The settings of ``queue`` that may change while it runs, by name."""
    return {name: getattr(queue, name) for name in sorted(LIVE_QUEUE_SETTINGS)}
