"""The customer directory kept in the store: the built-in CTI lookup source."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, delete, select

from .._errors import ValidationError
from ..store import Store
from ..store._limits import (
    EMAIL,
    ID,
    NAME,
    PHONE,
    TITLE,
    check_json,
    check_optional_text,
    check_text,
    check_texts,
)
from ..store._rows import CustomerPhoneRow, CustomerRow
from ._model import Customer, CustomerQuery
from ._phone import to_e164

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["CustomerDirectory"]


class CustomerDirectory:
    """Customers searchable by phone (E.164), e-mail or customer number.

    Args:
        store: Where customers live.
        region: Country assumed for phone numbers written without a prefix.
    """

    def __init__(self, store: Store, *, region: str = "FR") -> None:
        self._store = store
        self._region = region

    @property
    def region(self) -> str:
        """The country assumed for numbers without a country prefix."""
        return self._region

    def save(self, customer: Customer) -> Customer:
        """Insert or update the customer with this number; return it as stored.

        Phones are normalised to E.164 and e-mails lower-cased first.

        Raises:
            ValidationError: A phone number is impossible, the number is
                empty, or a field breaks the store's limits (see
                ``docs/store.md``).
        """
        check_text("Customer.number", customer.number, ID)
        if not customer.number.strip():
            raise ValidationError("a customer needs a customer number")
        check_text("Customer.name", customer.name, TITLE)
        check_optional_text("Customer.email", customer.email, EMAIL)
        check_texts("Customer.phones", customer.phones, NAME)
        check_json("Customer.attributes", customer.attributes)
        phones = sorted({to_e164(p, self._region) for p in customer.phones})
        check_texts("Customer.phones (E.164)", phones, PHONE)
        email = customer.email.strip().lower() if customer.email else None
        with self._store.transaction(f"save customer {customer.number}") as session:
            row = session.scalar(select(CustomerRow).where(CustomerRow.number == customer.number))
            if row is None:
                row = CustomerRow(number=customer.number, name="", attributes={})
                session.add(row)
            row.name = customer.name
            row.email = email
            row.attributes = dict(customer.attributes)
            session.flush()
            session.execute(delete(CustomerPhoneRow).where(CustomerPhoneRow.customer_id == row.id))
            session.add_all(CustomerPhoneRow(customer_id=row.id, e164=p) for p in phones)
            return Customer(
                customer_id=row.id,
                number=row.number,
                name=row.name,
                email=email,
                phones=phones,
                attributes=row.attributes,
            )

    def by_number(self, number: str) -> Customer | None:
        """Return the customer with this customer number."""
        return self._first(select(CustomerRow).where(CustomerRow.number == number.strip()))

    def by_email(self, email: str) -> Customer | None:
        """Return the customer with this e-mail (case does not matter)."""
        return self._first(select(CustomerRow).where(CustomerRow.email == email.strip().lower()))

    def by_phone(self, phone: str) -> Customer | None:
        """Return the customer with this phone number, in any written form.

        When a household shares the number, the earliest-registered customer
        is returned. An impossible number matches nobody.
        """
        try:
            e164 = to_e164(phone, self._region)
        except ValidationError:
            return None
        return self._first(
            select(CustomerRow)
            .join(CustomerPhoneRow, CustomerPhoneRow.customer_id == CustomerRow.id)
            .where(CustomerPhoneRow.e164 == e164)
        )

    def find(self, query: CustomerQuery) -> Customer | None:
        """Identify a customer: by customer number, then e-mail, then phone."""
        if query.number and (found := self.by_number(query.number)):
            return found
        if query.email and (found := self.by_email(query.email)):
            return found
        if query.phone:
            return self.by_phone(query.phone)
        return None

    def _first(self, query: Select[CustomerRow]) -> Customer | None:
        with self._store.transaction("find customer") as session:
            row = session.scalars(query.order_by(CustomerRow.id).limit(1)).first()
            return None if row is None else _from_row(session, row)


def _from_row(session: Session, row: CustomerRow) -> Customer:
    phones = session.scalars(
        select(CustomerPhoneRow.e164)
        .where(CustomerPhoneRow.customer_id == row.id)
        .order_by(CustomerPhoneRow.e164)
    ).all()
    return Customer(
        customer_id=row.id,
        number=row.number,
        name=row.name,
        email=row.email,
        phones=phones,
        attributes=row.attributes,
    )
