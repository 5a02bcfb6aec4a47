"""A person at a browser, without the browser: logs into the hub, starts their server, calls its APIs (cookies)."""

import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request


class HubClient:
    def __init__(self, url: str, user: str):
        self.url, self.user = url, user
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name: str, path_prefix: str = "/") -> str | None:
        return next((cookie.value for cookie in self.cookies if cookie.name == name
                     and cookie.path.startswith(path_prefix)), None)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 60):
        """(status, body text, final url); HTTP errors are answers here, not exceptions."""
        request = urllib.request.Request(f"{self.url}{path}", data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode(errors="replace"), response.url
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.url

    def login(self, password: str) -> bool:
        """The hub's login form, with its XSRF token; True when the hub let us in."""
        self.request("GET", "/hub/login")
        form = urllib.parse.urlencode({"username": self.user, "password": password,
                                       "_xsrf": self.cookie("_xsrf") or ""}).encode()
        status, _, url = self.request("POST", "/hub/login", form,
                                      {"Content-Type": "application/x-www-form-urlencoded"})
        return status == 200 and "/hub/login" not in url

    def start_server(self, timeout: float = 240) -> None:
        """As the Start button: the hub spawns the user's JupyterLab; wait until it answers through the proxy."""
        self.request("GET", "/hub/spawn")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, _ = self.request("GET", f"/user/{self.user}/lab", timeout=30)
            if status == 200 and self.cookie("_xsrf", f"/user/{self.user}"):
                return
            time.sleep(2)
        raise TimeoutError(f"{self.user}'s server did not start within {timeout} s")

    def server(self, method: str, path: str, payload=None, timeout: float = 600):
        """``path`` on the user's own server (e.g. /api/status, /formgrader/api/...), JSON in and out."""
        return self.json_call(f"/user/{self.user}", method, path, payload, timeout)

    def service(self, name: str, method: str, path: str, payload=None, timeout: float = 600):
        """``path`` on the hub service ``name`` (e.g. the course's formgrader), JSON in and out; the first call
        goes through the hub's OAuth login as a browser's would."""
        return self.json_call(f"/services/{name}", method, path, payload, timeout)

    def json_call(self, prefix: str, method: str, path: str, payload, timeout: float):
        if self.cookie("_xsrf", prefix) is None:
            self.request("GET", f"{prefix}/lab", timeout=timeout)  # a page: logs in and sets the XSRF cookie
        headers = {"X-XSRFToken": self.cookie("_xsrf", prefix) or ""}
        body = None
        if payload is not None:
            body, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
        status, text, _ = self.request(method, f"{prefix}{path}", body, headers, timeout)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text
