"""Signing in and out.

- POST /api/auth/token: the OAuth2 password flow for programs — form fields `username`
  and `password` — answering `{access_token, token_type: "bearer", expires_in}`; the
  token lasts SCG_ACCESS_TOKEN_TTL (default 1 h). Long-lived tokens come from
  `scg user token NAME`.
- GET /login, POST /login: the sign-in page for people; a session cookie (HttpOnly,
  SameSite=Strict, Secure over https) lasting SCG_SESSION_TTL (default 8 h).
- POST /logout: ends the session.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final

import jinja2
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from web.auth import csrf, tokens
from web.auth.actor import Actor
from web.auth.deps import SESSION_COOKIE, public, require, safe_next
from web.auth.settings import AuthSettings
from web.auth.signin import SignInRefused, sign_in
from web.errors import INVALID, UNREADABLE, error_response, error_responses
from web.headers import html_page

router = APIRouter(tags=["auth"])

TEMPLATES: Final = Path(__file__).resolve().parents[1] / "templates"
_HTML: Final = {"text/html": {"schema": {"type": "string"}}}


class TokenOut(BaseModel):
    access_token: str = Field(description="send it as `Authorization: Bearer <token>`")
    token_type: str = Field(description="always `bearer`", examples=["bearer"])
    expires_in: int = Field(description="seconds until the token expires")


def settings(request: Request) -> AuthSettings:
    found: AuthSettings = request.app.state.auth_settings
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/api/auth/token", response_model=TokenOut,
    dependencies=[Depends(public("programs exchange a password for a bearer token"))],
    responses={**error_responses({
        401: "wrong user name or password, or a disabled account",
        429: "too many failed sign-ins for this user or address: wait `Retry-After` s",
        **UNREADABLE, **INVALID}, signed_in=False)})
async def issue_access_token(
        form: Annotated[OAuth2PasswordRequestForm, Depends()],
        request: Request) -> TokenOut | JSONResponse:
    """Sign in with a user name and password (OAuth2 password flow); the answer is a
    short-lived bearer token for every other route."""
    ttl = settings(request).access_ttl
    async with request.app.state.pool.acquire() as conn:
        try:
            user = await sign_in(conn, form.username, form.password, client_address(request))
        except SignInRefused as exc:
            return _refused_json(exc)
        issued = await tokens.issue(conn, user.user_id, "access", ttl, "POST /api/auth/token")
    return TokenOut(access_token=issued.token, token_type="bearer",
                    expires_in=int(ttl.total_seconds()))


def _refused_json(exc: SignInRefused) -> JSONResponse:
    headers = ({"Retry-After": str(exc.retry_after)} if exc.status == 429
               else {"WWW-Authenticate": "Bearer"})
    return error_response(exc.status, [str(exc)], headers)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html"]),
                              undefined=jinja2.StrictUndefined)


def _login_page(next_url: str, *, message: str = "", username: str = "",
                status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    value = csrf.new_login_value()
    html = _environment().get_template("login.html").render(
        csrf_token=value, next=safe_next(next_url), message=message, username=username)
    response = html_page(html, status)
    response.headers.update(headers or {})
    response.set_cookie(csrf.LOGIN_COOKIE, value, httponly=True, samesite="strict",
                        path="/login")
    return response


NextQuery = Annotated[str | None, Query(
    alias="next", description="the local page to go to once signed in")]


@router.get("/login", response_class=Response, tags=["pages"],
            dependencies=[Depends(public("the sign-in form"))],
            responses={200: {"description": "the sign-in form", "content": _HTML},
                       **error_responses(INVALID, signed_in=False)})
async def login_form(next_url: NextQuery = None) -> HTMLResponse:
    """The sign-in page (zh-CN)."""
    return _login_page(next_url or "")


_LOGIN_ANSWERS: Final[dict[int | str, dict[str, Any]]] = {
    303: {"description": "signed in: the session cookie is set; on to `next`",
          "headers": {"Location": {"schema": {"type": "string"}}}},
    401: {"description": "wrong user name or password (the form again)", "content": _HTML},
    403: {"description": "the form's CSRF token does not match its cookie (the form again)",
          "content": _HTML},
    429: {"description": "too many failed sign-ins: wait `Retry-After` s", "content": _HTML},
    **error_responses({**UNREADABLE, **INVALID}, signed_in=False),
}


@router.post("/login", response_class=Response, status_code=303, tags=["pages"],
             dependencies=[Depends(public("the sign-in form posts here"))],
             responses=_LOGIN_ANSWERS)
async def login(request: Request,
                username: Annotated[str, Form(max_length=200)],
                password: Annotated[str, Form(max_length=1024)],
                csrf_token: Annotated[str, Form(max_length=200)] = "",
                next_url: Annotated[str, Form(alias="next", max_length=2000)] = "") -> Response:
    """Check the name and password; set the session cookie and go on to `next`."""
    if not csrf.same(request.cookies.get(csrf.LOGIN_COOKIE, ""), csrf_token):
        return _login_page(next_url, username=username, status=403,
                           message="登录页面已过期，请重新输入密码后登录。")
    config = settings(request)
    async with request.app.state.pool.acquire() as conn:
        try:
            user = await sign_in(conn, username, password, client_address(request))
        except SignInRefused as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.status == 429 else {}
            text = ("用户名或密码不正确。" if exc.status == 401 and "disabled" not in str(exc)
                    else "该账号已停用，请联系管理员。" if exc.status == 401
                    else f"登录失败次数过多，请 {exc.retry_after} 秒后再试。")
            return _login_page(next_url, username=username, status=exc.status,
                               message=text, headers=headers)
        issued = await tokens.issue(conn, user.user_id, "session", config.session_ttl,
                                    "browser session")
    response = RedirectResponse(safe_next(next_url), status_code=303)
    secure = (config.secure_cookie if config.secure_cookie is not None
              else request.url.scheme == "https")
    response.set_cookie(SESSION_COOKIE, issued.token, httponly=True, samesite="strict",
                        secure=secure, path="/", max_age=int(config.session_ttl.total_seconds()))
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", response_class=Response, status_code=303, tags=["pages"],
             responses={303: {"description": "signed out: on to /login",
                              "headers": {"Location": {"schema": {"type": "string"}}}},
                        **error_responses({})})
async def logout(request: Request,
                 actor: Annotated[Actor, Depends(require("session.end", page=True))]
                 ) -> Response:
    """End the browser session (a bearer token stays valid until it expires)."""
    if actor.via == "session":
        async with request.app.state.pool.acquire() as conn:
            await tokens.revoke(conn, actor.token_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

