"""The agent's tools: arithmetic without eval, the clock, and the weather API's failure modes."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from agentarch.agent.calculator import CalculatorError, evaluate
from agentarch.agent.tools import WeatherService, calculator, current_time


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("17 * 23", 391),
        ("(2 + 3) ** 2", 25),
        ("7 / 2", 3.5),
        ("-4 + 10 // 3", -1),
        ("2^10", 1024),
        ("6 × 7", 42),
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "open('/etc/passwd')", "a + 1", "[1, 2]", "1 if 1 else 2", "'x' * 3"],
)
def test_calculator_refuses_anything_but_numbers_and_operators(expression: str) -> None:
    with pytest.raises(CalculatorError):
        evaluate(expression)


def test_calculator_bounds_work_and_reports_errors_as_text() -> None:
    with pytest.raises(CalculatorError, match="exponent"):
        evaluate("9 ** 9 ** 9")
    assert "division by zero" in calculator("1 / 0")
    assert calculator("17 * 23") == "17 * 23 = 391"


def test_current_time_names_the_zone_and_rejects_unknown_ones() -> None:
    assert re.search(r"It is \d\d:\d\d:\d\d on .* \(Europe/Paris\)", current_time("Europe/Paris"))
    assert "Unknown time zone" in current_time("Mars/Olympus")


POINTS = {
    "properties": {
        "forecast": "https://api.weather.gov/gridpoints/SEW/125,68/forecast",
        "relativeLocation": {"properties": {"city": "Seattle", "state": "WA"}},
    }
}
FORECAST = {
    "properties": {
        "periods": [
            {
                "name": "Tonight",
                "temperature": 45,
                "temperatureUnit": "F",
                "shortForecast": "Light Rain",
                "windSpeed": "5 mph",
                "windDirection": "S",
            }
        ]
    }
}


def weather_with(handler: httpx.MockTransport) -> WeatherService:
    return WeatherService("https://api.weather.gov", 1.0, client=httpx.Client(transport=handler))


def test_weather_follows_points_to_the_forecast() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=POINTS if "/points/" in request.url.path else FORECAST)

    answer = weather_with(httpx.MockTransport(handler)).forecast(47.61, -122.33)

    assert answer == "Tonight in Seattle, WA: Light Rain, 45°F, wind 5 mph S."
    assert seen == [
        "https://api.weather.gov/points/47.6100,-122.3300",
        "https://api.weather.gov/gridpoints/SEW/125,68/forecast",
    ]


def test_weather_refuses_to_follow_a_non_https_url() -> None:
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        body = {"properties": {"forecast": "http://evil.example/forecast"}}
        return httpx.Response(200, json=body)

    answer = weather_with(httpx.MockTransport(handler)).forecast(47.61, -122.33)

    assert "non-https" in answer
    assert len(requests) == 1


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectTimeout("slow"), "timed out"),
        (httpx.ConnectError("down"), "cannot be reached"),
        (httpx.RemoteProtocolError("reset"), "connection failed"),
        (httpx.Response(503, text="busy"), "HTTP 503"),
        (httpx.Response(200, text="<html>"), "not JSON"),
    ],
)
def test_weather_failures_become_a_clear_tool_message(failure: object, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(failure, Exception):
            raise failure
        assert isinstance(failure, httpx.Response)
        return failure

    answer = weather_with(httpx.MockTransport(handler)).forecast(47.61, -122.33)

    assert answer.startswith("The weather service is unavailable right now")
    assert expected in answer
    assert "Error" not in answer  # the user reads this: no exception class names


def test_weather_outside_the_us_and_bad_coordinates_are_explained() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps({"properties": {}}))

    service = weather_with(httpx.MockTransport(handler))

    assert "covers the US only" in service.forecast(48.85, 2.35)
    assert "not a valid" in service.forecast(123.0, 2.0)
