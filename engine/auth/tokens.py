"""API tokens: issue (password check with login throttling), resolve a bearer token to its actor, revoke.

Tokens are random; only their SHA-256 is stored. Expiry follows the engine's clock (the simulated one in demo
and test mode), so moving the simulated clock past it ends a token. Throttling follows the wall clock: it is
about real attempts, not about the simulated time of the cases.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from engine.auth.users import actor_of, check_password
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import DomainError, Unauthorized, ValidationFailed
from engine.store.models import ApiToken, LoginAttempt, Setting, User
from engine.store.runtime import Runtime

DEFAULT_TTL = timedelta(hours=8)
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class TooManyAttempts(DomainError):
    """Login refused for the rest of the throttling window (HTTP 429)."""

    code = "too_many_attempts"


def wall_now() -> datetime:
    """Real time (tests replace it to age the throttling window)."""
    return datetime.now(UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(runtime: Runtime, username: Any, password: Any, address: str,
                ttl: timedelta = DEFAULT_TTL) -> dict[str, Any]:
    """Check the password and hand out a new token; 5 failures per name or address in 15 minutes lock both."""
    problems = {k: "必填，应为文本" for k, v in (("username", username), ("password", password))
                if not isinstance(v, str) or not v}
    if problems:
        raise ValidationFailed("请填写用户名和密码", problems)
    assert isinstance(username, str) and isinstance(password, str)
    name, address = username[:80], address[:64]
    now = wall_now()
    failed = False
    with runtime.db.transaction() as s:
        # Old attempts and long-dead tokens only take space.
        s.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=1)))
        s.execute(delete(ApiToken).where(ApiToken.expires_at < clock.now() - timedelta(days=30)))
        if _throttled(s, name, address, now):
            raise TooManyAttempts("登录失败次数过多，请15分钟后再试")
        user = check_password(s, username, password)
        s.add(LoginAttempt(username=name, address=address, at=now, success=user is not None))
        if user is None:
            failed = True
        else:
            token = secrets.token_urlsafe(32)
            issued = clock.now()
            row = ApiToken(token_hash=digest(token), username=user.username, created_at=issued,
                           expires_at=issued + ttl)
            s.add(row)
            actor = actor_of(user)
            result = {"token": token, "expires_at": row.expires_at.isoformat(),
                      "user": {"username": actor.username, "display_name": actor.display_name,
                               "roles": list(actor.roles), "department": actor.department}}
    # Raised after the commit: the failed attempt must be kept for throttling.
    if failed:
        raise Unauthorized("用户名或密码错误")
    return result


def _throttled(session: Any, name: str, address: str, now: datetime) -> bool:
    since = now - WINDOW
    last_ok = session.execute(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == name, LoginAttempt.success.is_(True))).scalar()
    name_since = max(since, last_ok) if last_ok is not None else since
    by_name = session.execute(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.username == name, LoginAttempt.success.is_(False), LoginAttempt.at > name_since)).scalar_one()
    by_address = session.execute(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.address == address, LoginAttempt.success.is_(False), LoginAttempt.at > since)).scalar_one()
    return int(by_name) >= MAX_FAILURES or int(by_address) >= MAX_FAILURES


def actor_for_token(runtime: Runtime, token: str) -> Actor:
    """The actor a bearer token stands for; expired, revoked or unknown tokens are refused alike."""
    if not token or len(token) > 200:
        raise Unauthorized("登录凭证无效或已过期，请重新登录")
    with runtime.db.transaction() as s:
        row = s.execute(select(ApiToken).where(ApiToken.token_hash == digest(token))).scalar()
        if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
            raise Unauthorized("登录凭证无效或已过期，请重新登录")
        user = s.execute(select(User).where(User.username == row.username, User.active.is_(True))).scalar()
        if user is None:
            raise Unauthorized("登录凭证无效或已过期，请重新登录")
        return actor_of(user)


def revoke(runtime: Runtime, token: str) -> None:
    with runtime.db.transaction() as s:
        row = s.execute(select(ApiToken).where(ApiToken.token_hash == digest(token))).scalar()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("登录凭证无效或已过期，请重新登录")
        row.revoked_at = clock.now()


def session_secret(runtime: Runtime) -> str:
    """The signing key of browser sessions and CSRF tokens: made once, kept in the database across restarts."""
    with runtime.db.transaction() as s:
        row = s.get(Setting, "session_secret")
        if row is None:
            row = Setting(key="session_secret", value=secrets.token_hex(32))
            s.add(row)
        return str(row.value)
