"""The agent's sample tools: current time, a calculator, weather from api.weather.gov, and tickets.

Tools answer with a plain sentence even when they fail (network down, API error, bad input), so
the model can tell the user what went wrong instead of the run crashing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool

from agentarch.agent.calculator import CalculatorError, evaluate
from agentarch.core.decisions import Decision
from agentarch.core.errors import StorageUnavailable
from agentarch.services.tickets import SEVERITIES, Ticket, TicketComment, TicketStore

USER_AGENT = "agentarch-sample-agent (https://github.com/agentarch)"


def current_time(timezone: str = "UTC") -> str:
    """Return the current date and time in an IANA time zone (default UTC)."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return f"Unknown time zone {timezone!r}; use an IANA name such as 'Europe/Paris' or 'UTC'."
    now = datetime.now(UTC).astimezone(zone)
    return f"It is {now:%H:%M:%S} on {now:%A %d %B %Y} ({zone.key})."


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as '17 * 23' or '(2 + 3) ** 2'."""
    try:
        return f"{expression.strip()} = {evaluate(expression)}"
    except CalculatorError as exc:
        return f"Cannot calculate {expression!r}: {exc}."


class WeatherService:
    """Forecasts from the US National Weather Service API (api.weather.gov), https only."""

    def __init__(self, base_url: str, timeout_seconds: float, client: httpx.Client | None = None) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._client = client  # made on the first forecast: its TLS context costs a cold start otherwise

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self._timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}
            )
        return self._client

    def forecast(self, latitude: float, longitude: float) -> str:
        """Return the current forecast period for a US location given by latitude and longitude."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return f"{latitude},{longitude} is not a valid latitude,longitude pair."
        try:
            point = self._get_json(f"{self._base_url}/points/{latitude:.4f},{longitude:.4f}")
            properties = point.get("properties") or {}
            forecast_url = properties.get("forecast")
            if not isinstance(forecast_url, str):
                return "The weather service has no forecast for that location (it covers the US only)."
            periods = (self._get_json(forecast_url).get("properties") or {}).get("periods") or []
        except WeatherUnavailable as exc:
            return f"The weather service is unavailable right now: {exc}."
        if not periods:
            return "The weather service returned no forecast periods for that location."
        now = periods[0]
        place = ((properties.get("relativeLocation") or {}).get("properties")) or {}
        where = ", ".join(str(p) for p in (place.get("city"), place.get("state")) if p) or "that location"
        return (
            f"{now.get('name', 'Now')} in {where}: {now.get('shortForecast', 'no summary')}, "
            f"{now.get('temperature', '?')}°{now.get('temperatureUnit', '')}, "
            f"wind {now.get('windSpeed', '?')} {now.get('windDirection', '')}".rstrip()
            + "."
        )

    def _get_json(self, url: str) -> dict[str, Any]:
        if urlsplit(url).scheme != "https":
            raise WeatherUnavailable(f"refused to follow a non-https URL ({urlsplit(url).scheme}://…)")
        try:
            response = self._http().get(url, headers={"Accept": "application/geo+json"})
        except httpx.TimeoutException:
            raise WeatherUnavailable("the request timed out") from None
        except httpx.ConnectError:
            raise WeatherUnavailable("it cannot be reached (network error)") from None
        except httpx.HTTPError:
            # The user reads this sentence: say what happened, never the exception's class name.
            raise WeatherUnavailable("the connection failed (network error)") from None
        if response.status_code != 200:
            raise WeatherUnavailable(f"it answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise WeatherUnavailable("it answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise WeatherUnavailable("it answered an unexpected document")
        return body


class WeatherUnavailable(Exception):
    """The weather API could not be reached or answered badly."""


SHOWN_TICKETS = 10  # a search shows at most this many tickets, newest first


class TicketService:
    """The ticket tools: open a ticket (one per approval), search tickets, comment on one."""

    def __init__(self, store: TicketStore | None) -> None:
        self._store = store

    def create_ticket(self, title: str, severity: str, body: str, config: RunnableConfig) -> str:
        """Open a support ticket. Severity is low, medium or high. Needs the user's approval."""
        if self._store is None:
            return "Tickets cannot be created here: this deployment has no ticket store."
        configurable = config.get("configurable") or {}
        turn, call_id = configurable.get("turn"), str(configurable.get("call_id") or "")
        approval = getattr(turn, "approval", None)
        principal = getattr(turn, "principal", None)
        # The approval's id makes a replayed approval find its ticket instead of making another.
        approved = (
            approval is not None and approval.call_id == call_id and approval.decision is Decision.APPROVED
        )
        ticket_id = call_id if approved else "t-" + secrets.token_hex(8)
        try:
            ticket, created = self._store.create_once(
                Ticket(
                    ticket_id=ticket_id,
                    actor_id=principal.id if principal else "",
                    author_name=principal.name if principal else None,
                    session_id=getattr(turn, "session_id", ""),
                    title=title.strip()[:200] or "untitled",
                    severity=severity if severity in SEVERITIES else "medium",
                    body=body[:4000],
                    created_at=datetime.now(UTC),
                )
            )
        except StorageUnavailable:
            return "The ticket could not be created: the ticket store is unavailable right now."
        touched = getattr(turn, "touched", None)
        if isinstance(touched, dict):
            touched[call_id] = [f"ticket:{ticket.ticket_id}"]  # the audit record names what was touched
        verb = "Created" if created else "Already created"
        return f"{verb} ticket {ticket.ticket_id} ({ticket.severity}): {ticket.title}."

    def search_tickets(self, query: str, config: RunnableConfig) -> list[dict[str, str]] | str:
        """Search support tickets whose title or body contains the query (empty: the newest)."""
        if self._store is None:
            return "Tickets cannot be searched here: this deployment has no ticket store."
        turn = (config.get("configurable") or {}).get("turn")
        may_read = getattr(turn, "may_read", None)
        try:
            found = self._store.search(query)
        except StorageUnavailable:
            return "Tickets cannot be searched: the ticket store is unavailable right now."
        # Who may read which ticket is the tool policy's decision (`read_ticket`), not this tool's.
        shown = [t for t in found if callable(may_read) and may_read(t.actor_id)][:SHOWN_TICKETS]
        if not shown:
            return f"No ticket you may read matches {query!r}."
        return [
            {
                "ticket_id": t.ticket_id,
                "author": t.actor_id,
                **({"author_name": t.author_name} if t.author_name else {}),
                "severity": t.severity,
                "title": t.title,
                "body": t.body,
                "comments": " | ".join(c.text for c in t.comments),
            }
            for t in shown
        ]

    def comment_on_ticket(self, ticket_id: str, text: str, config: RunnableConfig) -> str:
        """Add a comment to a support ticket; the ticket's author reads it."""
        if self._store is None:
            return "Tickets cannot be commented on here: this deployment has no ticket store."
        turn = (config.get("configurable") or {}).get("turn")
        principal = getattr(turn, "principal", None)
        comment = text.strip()[:4000]
        if not comment:
            return "The comment is empty: nothing was added."
        try:
            ticket = self._store.add_comment(
                ticket_id.strip(),
                TicketComment(
                    author_id=principal.id if principal else "", text=comment, created_at=datetime.now(UTC)
                ),
            )
        except StorageUnavailable:
            return "The comment could not be added: the ticket store is unavailable right now."
        if ticket is None:
            return f"There is no ticket {ticket_id!r}: nothing was added."
        touched = getattr(turn, "touched", None)
        if isinstance(touched, dict):
            touched[str((config.get("configurable") or {}).get("call_id") or "")] = [
                f"ticket:{ticket.ticket_id}"
            ]
        return f"Commented on ticket {ticket.ticket_id} ({len(ticket.comments)} comments now)."


def build_tools(weather: WeatherService, tickets: TicketService | None = None) -> list[BaseTool]:
    """The tools the agent may call, in the order the model sees them."""
    # `provenance`: per field of the output, whose words it is (agent/provenance.py) — `system` is
    # trusted, `author` only when the asking user wrote it, `outside` never.
    # `consequential`: the tool changes something outside the conversation (agent/graph.py keeps it
    # from turns whose history and approvals a browser writes).
    service = tickets or TicketService(None)
    return [
        StructuredTool.from_function(
            current_time,
            name="current_time",
            metadata={"non_sensitive": ["timezone"], "provenance": {"text": "system"}},
        ),
        StructuredTool.from_function(
            calculator, name="calculator", metadata={"provenance": {"text": "system"}}
        ),
        StructuredTool.from_function(
            weather.forecast,
            name="weather",
            description="Current weather forecast for a US location given by latitude and longitude.",
            metadata={"provenance": {"text": "outside"}},  # the weather service's free text
        ),
        StructuredTool.from_function(
            service.create_ticket,
            name="create_ticket",
            metadata={"non_sensitive": ["severity"], "provenance": {"text": "system"}, "consequential": True},
            description=(
                "Open a support ticket with a short title, a severity (low, medium or high) and a body. "
                "Runs only once the user approves it."
            ),
        ),
        StructuredTool.from_function(
            service.search_tickets,
            name="search_tickets",
            metadata={
                "non_sensitive": ["query"],
                "provenance": {
                    "text": "system",  # the tool's own sentences (nothing found, store down)
                    "ticket_id": "system",
                    "author": "system",
                    # The user name the author had: typed by a person, so their words like the title;
                    # whose words a ticket is comes from `author` (the id), never from this.
                    "author_name": "author",
                    "severity": "system",
                    "title": "author",
                    "body": "author",
                    "comments": "outside",  # written by whoever commented
                },
            },
            description="Search support tickets by words in their title or body; shows id, author and text.",
        ),
        StructuredTool.from_function(
            service.comment_on_ticket,
            name="comment_on_ticket",
            metadata={
                "non_sensitive": ["ticket_id"],
                "provenance": {"text": "system"},
                "consequential": True,
            },
            description="Add a comment to a support ticket, by its id; the ticket's author reads it.",
        ),
    ]
