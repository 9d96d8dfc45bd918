"""A client of the exchange's API, over HTTP or in process (the app itself, for tests).

Answers outside 2xx are raised as the platform's own errors, with the exchange's message and
details (e.g. every discrepancy of a refused listing), so callers handle them like local ones.
"""

from __future__ import annotations

from typing import Any

import httpx

from api.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PlatformError,
)
from api.exchange.schemas import IssuanceRequest

_ERRORS: dict[int, type[PlatformError]] = {
    401: AuthenticationError, 403: ForbiddenError, 404: NotFoundError, 409: ConflictError, 422: InvalidInputError,
}


class ExchangeClientError(PlatformError):
    """The exchange answered with an error; ``status_code`` and ``code`` are the exchange's."""


class ExchangeClient:
    def __init__(self, http: httpx.Client, api_key: str) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {api_key}"}

    @classmethod
    def over_http(cls, base_url: str, api_key: str, *, timeout: float = 60.0) -> ExchangeClient:
        return cls(httpx.Client(base_url=base_url, timeout=timeout), api_key)

    @classmethod
    def in_process(cls, app: Any, api_key: str) -> ExchangeClient:
        """Calls ``app`` directly (no socket), through Starlette's test transport."""
        from fastapi.testclient import TestClient

        return cls(TestClient(app), api_key)

    def close(self) -> None:
        self._http.close()

    def request_listing(self, request: IssuanceRequest) -> dict:
        return self._call("POST", "/v1/listings", json=request.model_dump(mode="json"))

    def products(self) -> list[dict]:
        return self._call("GET", "/v1/products")

    def product(self, product_id: int) -> dict:
        return self._call("GET", f"/v1/products/{product_id}")

    def subscribe(self, product_id: int, tranche: int, units: int) -> dict:
        return self._call("POST", f"/v1/products/{product_id}/subscriptions", json={"tranche": tranche, "units": units})

    def orders(self, product_id: int) -> list[dict]:
        """The whole book for the exchange; an investor's own orders for an investor."""
        return self._call("GET", f"/v1/products/{product_id}/subscriptions")

    def cancel(self, subscription_id: int) -> dict:
        return self._call("DELETE", f"/v1/subscriptions/{subscription_id}")

    def document(self, product_id: int, kind: str) -> bytes:
        return self._call("GET", f"/v1/products/{product_id}/documents/{kind}", raw=True, binary=True)

    def allocation(self, product_id: int) -> dict:
        return self._call("GET", f"/v1/products/{product_id}/allocation")

    def close_book(self, product_id: int) -> dict:
        return self._call("POST", f"/v1/products/{product_id}/book/close")

    def distribute(self, product_id: int, period: int, interest: int, principal: int, defaults: int = 0) -> dict:
        body = {"period": period, "interest": interest, "principal": principal, "defaults": defaults}
        return self._call("POST", f"/v1/products/{product_id}/distributions", json=body)

    def whitelist(self, investor: str, expires_at: int, qualified: bool = False) -> dict:
        body = {"investor": investor, "expires_at": expires_at, "qualified": qualified}
        return self._call("POST", "/v1/investors/whitelist", json=body)

    def holders(self, product_id: int) -> list[dict]:
        return self._call("GET", f"/v1/products/{product_id}/holders")

    def holdings(self) -> dict:
        return self._call("GET", "/v1/me/holdings")

    def transactions_csv(self) -> str:
        return self._call("GET", "/v1/me/transactions.csv", raw=True)

    def _call(self, method: str, path: str, *, json: Any = None, raw: bool = False, binary: bool = False) -> Any:
        try:
            response = self._http.request(method, path, json=json, headers=self._headers)
        except httpx.HTTPError as exc:
            raise ExchangeClientError(f"the exchange did not answer {method} {path}: {exc}") from None
        if response.is_success:
            if raw:
                return response.content if binary else response.text
            return response.json()
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text}
        error_type = _ERRORS.get(response.status_code, ExchangeClientError)
        error = error_type(body.get("message") or f"the exchange answered {response.status_code}",
                           details=body.get("details"))
        error.code = body.get("error", error.code)
        error.status_code = response.status_code
        raise error
