"""How people prove who they are: password hashes and API bearer tokens.

The org says who a person is and what they may do; this module only keeps
what proves it. Passwords are hashed with scrypt (memory-hard: a GPU farm
guessing them pays in memory, not only in cycles), a fresh random salt per
password, and compared in constant time. The hash text carries its own
parameters, so raising the cost later needs no migration: old hashes still
verify, and :meth:`Accounts.check_password` says when one should be redone.

Bearer tokens are 32 random bytes: guessing one is hopeless, so a plain
SHA-256 is stored (a slow hash would only slow every API request). The token
itself is shown once, when it is made.

Browser sessions are kept the same way (their id's SHA-256, under the label
:data:`SESSION_LABEL`, which no bearer token may have), with the secret that
signs their cookies (:meth:`Accounts.cookie_secret`): a server that restarts,
or another node of the same store, still knows who is signed in.

.. versionadded:: 0.1
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import attrs
from sqlalchemy import delete, select

from .._errors import ConflictError, NotFoundError, ValidationError
from ._limits import ID, NAME, check_float, check_text
from ._rows import AccountRow, ApiTokenRow
from ._sessions import Documents
from ._store import Store

__all__ = ["SESSION_LABEL", "Accounts", "PasswordCheck", "ScryptCost"]

SESSION_LABEL = "browser-session"
"""The label of the rows that are browser sessions, not bearer tokens."""

_SECRET_DOCUMENT = "web.cookie-secret"  # noqa: S105 - a document key, not a secret

_MAX_PASSWORD = 1_024
"""Characters: long passphrases are welcome, megabytes of "password" are a denial of service."""

_MIN_PASSWORD = 8


@attrs.frozen
class ScryptCost:
    """The scrypt parameters new hashes are made with.

    The default (n=2**14, r=8, p=1) takes 16 MiB and some 50 ms per hash on
    a server core: OWASP's floor for scrypt. Tests may lower it; production
    should not.

    Attributes:
        n: CPU/memory cost (a power of two).
        r: Block size.
        p: Parallelism.
    """

    n: int = 2**14
    r: int = 8
    p: int = 1

    def __attrs_post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1):
            raise ValidationError(f"scrypt n must be a power of two above 1, got {self.n}")
        if self.r < 1 or self.p < 1:
            raise ValidationError(f"scrypt r and p must be positive, got {self.r} and {self.p}")


@attrs.frozen
class PasswordCheck:
    """What :meth:`Accounts.check_password` found.

    Attributes:
        ok: The password is the person's.
        stale: It was hashed with other parameters than the current ones
            (set it again to upgrade the hash).
    """

    ok: bool
    stale: bool = False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hash(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=256 * cost.n * cost.r * cost.p,
        dklen=32,
    )


def _encode(password: str, cost: ScryptCost) -> str:
    salt = secrets.token_bytes(16)
    digest = _hash(password, salt, cost)
    return f"scrypt${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def _decode(text: str) -> tuple[ScryptCost, bytes, bytes]:
    scheme, n, r, p, salt, digest = text.split("$")
    if scheme != "scrypt":
        raise ValidationError(f"unknown password hash scheme {scheme!r}")
    return ScryptCost(int(n), int(r), int(p)), base64.b64decode(salt), base64.b64decode(digest)


def _token_digest(token: str) -> str:
    """The SHA-256 a bearer token is stored under."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Accounts:
    """People's passwords and API tokens, in the store.

    Every method reaches the database and hashes on the caller's thread:
    async code runs them with ``anyio.to_thread.run_sync``.

    Args:
        store: Where accounts live.
        cost: The scrypt parameters of new hashes.
    """

    def __init__(self, store: Store, *, cost: ScryptCost | None = None) -> None:
        self._store = store
        self.cost = cost or ScryptCost()
        # Checked against when the person has no password, so an unknown name costs
        # as much time as a wrong password and does not tell who exists.
        self._decoy = _encode(secrets.token_urlsafe(16), self.cost)

    def set_password(self, person_id: str, password: str, *, at: float) -> None:
        """Set (or replace) ``person_id``'s password.

        Raises:
            ValidationError: A password shorter than 8 or longer than 1,024
                characters, or a bad id.
        """
        check_text("person_id", person_id, ID)
        check_float("at", at)
        if not _MIN_PASSWORD <= len(password) <= _MAX_PASSWORD:
            raise ValidationError(f"a password has {_MIN_PASSWORD} to {_MAX_PASSWORD} characters")
        encoded = _encode(password, self.cost)
        with self._store.transaction(f"set the password of {person_id}") as session:
            row = session.get(AccountRow, person_id)
            if row is None:
                session.add(AccountRow(person_id=person_id, password_hash=encoded, updated_at=at))
            else:
                row.password_hash = encoded
                row.updated_at = at

    def check_password(self, person_id: str, password: str) -> PasswordCheck:
        """Tell whether ``password`` is ``person_id``'s, in time that does not depend on it.

        A person without a password (or an unknown id) never matches, after
        the same work as a wrong password.
        """
        stored = None
        if len(person_id) <= ID:
            with self._store.transaction(f"read the password of {person_id}") as session:
                row = session.get(AccountRow, person_id)
                stored = row.password_hash if row is not None else None
        if len(password) > _MAX_PASSWORD:
            password = ""
        cost, salt, digest = _decode(stored or self._decoy)
        ok = hmac.compare_digest(_hash(password, salt, cost), digest)
        return PasswordCheck(ok=ok and stored is not None, stale=cost != self.cost)

    def has_password(self, person_id: str) -> bool:
        """Whether ``person_id`` has a password (may log in at all)."""
        with self._store.transaction(f"read the account of {person_id}") as session:
            return session.get(AccountRow, person_id) is not None

    def remove(self, person_id: str) -> None:
        """Forget ``person_id``'s password and every token of theirs (they leave)."""
        with self._store.transaction(f"remove the account of {person_id}") as session:
            session.execute(delete(ApiTokenRow).where(ApiTokenRow.person_id == person_id))
            session.execute(delete(AccountRow).where(AccountRow.person_id == person_id))

    def create_token(self, person_id: str, *, at: float, label: str = "api") -> str:
        """Make a bearer token for ``person_id`` and return it (it is not kept: show it once).

        Raises:
            ValidationError: A bad id or label.
        """
        check_text("person_id", person_id, ID)
        check_text("label", label, NAME)
        check_float("at", at)
        if label == SESSION_LABEL:
            raise ValidationError(f"the label {SESSION_LABEL!r} is kept for browser sessions")
        token = secrets.token_urlsafe(32)
        with self._store.transaction(f"create a token for {person_id}") as session:
            session.add(
                ApiTokenRow(
                    token_hash=_token_digest(token), person_id=person_id, created_at=at, label=label
                )
            )
        return token

    def token_owner(self, token: str) -> str | None:
        """The person a bearer token belongs to, ``None`` if it is no (longer a) token."""
        if not 0 < len(token) <= 200:
            return None
        with self._store.reading("read a token") as session:
            return session.scalar(
                select(ApiTokenRow.person_id).where(
                    ApiTokenRow.token_hash == _token_digest(token),
                    ApiTokenRow.label != SESSION_LABEL,
                )
            )

    def revoke_token(self, token: str) -> bool:
        """Forget a bearer token; return whether it existed."""
        with self._store.transaction("revoke a token") as session:
            result = session.execute(
                delete(ApiTokenRow).where(
                    ApiTokenRow.token_hash == _token_digest(token),
                    ApiTokenRow.label != SESSION_LABEL,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    # -- browser sessions ---------------------------------------------------------------------
    def keep_session(self, session_id: str, person_id: str, *, at: float) -> None:
        """Remember that browser session ``session_id`` of ``person_id`` began at ``at``.

        .. versionadded:: 0.2

        Raises:
            ValidationError: A bad id or time.
        """
        check_text("person_id", person_id, ID)
        check_float("at", at)
        if not 0 < len(session_id) <= 200:
            raise ValidationError("a session id is 1 to 200 characters")
        with self._store.transaction(f"keep a session of {person_id}") as session:
            session.add(
                ApiTokenRow(
                    token_hash=_token_digest(session_id),
                    person_id=person_id,
                    created_at=at,
                    label=SESSION_LABEL,
                )
            )

    def session_started(self, session_id: str) -> tuple[str, float] | None:
        """The person and start time of a kept browser session, ``None`` if there is none.

        .. versionadded:: 0.2
        """
        if not 0 < len(session_id) <= 200:
            return None
        with self._store.reading("read a session") as session:
            row = session.execute(
                select(ApiTokenRow.person_id, ApiTokenRow.created_at).where(
                    ApiTokenRow.token_hash == _token_digest(session_id),
                    ApiTokenRow.label == SESSION_LABEL,
                )
            ).first()
            return None if row is None else (row[0], row[1])

    def drop_session(self, session_id: str) -> None:
        """Forget a browser session (its person logged out; idempotent).

        .. versionadded:: 0.2
        """
        with self._store.transaction("end a session") as session:
            session.execute(
                delete(ApiTokenRow).where(
                    ApiTokenRow.token_hash == _token_digest(session_id),
                    ApiTokenRow.label == SESSION_LABEL,
                )
            )

    def drop_sessions(self, *, person_id: str | None = None, before: float | None = None) -> int:
        """Forget the browser sessions of ``person_id``, or those begun before ``before``.

        Returns how many were forgotten.

        .. versionadded:: 0.2
        """
        where = [ApiTokenRow.label == SESSION_LABEL]
        if person_id is not None:
            where.append(ApiTokenRow.person_id == person_id)
        if before is not None:
            where.append(ApiTokenRow.created_at < before)
        with self._store.transaction("end sessions") as session:
            result = session.execute(delete(ApiTokenRow).where(*where))
            return int(getattr(result, "rowcount", 0) or 0)

    def cookie_secret(self, *, at: float) -> bytes:
        """The secret that signs session cookies: made once (32 random bytes), then read.

        Every server of the same store gets the same secret, so a cookie
        signed before a restart, or by another node, is still recognised.

        .. versionadded:: 0.2
        """
        documents = Documents(self._store)
        try:
            return _unb64(documents.get(_SECRET_DOCUMENT).content["secret"])
        except NotFoundError:
            pass
        fresh = _b64(secrets.token_bytes(32))
        try:
            documents.put(_SECRET_DOCUMENT, {"secret": fresh}, at=at, expected_version=0)
        except ConflictError:  # another node made it between our read and our write
            return _unb64(documents.get(_SECRET_DOCUMENT).content["secret"])
        return _unb64(fresh)
