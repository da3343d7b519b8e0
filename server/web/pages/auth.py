"""Log in and log out."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.auth.sessions import SESSION_COOKIE, attempt_login, end_session
from server.web.render import render, safe_next, services_of


async def login_form(request: Request) -> Response:
    if request.state.principal is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(request, "pages/login.html", {"next_url": safe_next(request.query_params.get("next")), "email": ""})


async def login(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "/")))
    if not email or not password:
        return render(request, "pages/login.html", {"error": "Enter your email address and password", "email": email, "next_url": next_url}, status_code=400)
    ip = request.client.host if request.client else None
    async with services.database.session() as session:
        outcome = await attempt_login(
            session, services.settings, email=email, password=password, ip=ip, previous_token=request.cookies.get(SESSION_COOKIE)
        )
    if outcome.throttled:
        message = "Too many failed attempts. Wait 15 minutes and try again, or ask your administrator to reset your password."
        return render(request, "pages/login.html", {"error": message, "email": email, "next_url": next_url}, status_code=429)
    if outcome.session_token is None:
        return render(request, "pages/login.html", {"error": "Email address or password is not right", "email": email, "next_url": next_url}, status_code=400)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, outcome.session_token, httponly=True, samesite="lax", secure=services.settings.secure_cookies,
        max_age=services.settings.session_absolute_hours * 3600, path="/",
    )
    return response


async def logout(request: Request) -> Response:
    services = services_of(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with services.database.session() as session:
            await end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
