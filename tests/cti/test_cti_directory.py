"""Phone numbers in E.164, the customer directory and the CSV importer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callcenter_sdk import ConfigError, ValidationError
from callcenter_sdk.cti import (
    Customer,
    CustomerDirectory,
    CustomerQuery,
    import_customers_csv,
    to_e164,
)
from callcenter_sdk.store import Store


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("+33 (0)1 42 68 53 00", "FR", "+33142685300"),
        ("0033142685300", "FR", "+33142685300"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+44 20 7946 0958", "FR", "+442079460958"),
    ],
)
def test_numbers_written_any_way_become_e164(raw: str, region: str, expected: str) -> None:
    """Local, international and decorated forms all normalise to the same E.164."""
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "12", "+999 1234"])
def test_impossible_numbers_are_refused(raw: str) -> None:
    """Garbage is a ValidationError, never a silently wrong key."""
    with pytest.raises(ValidationError):
        to_e164(raw)


@given(st.from_regex(r"0[1-9]( ?[0-9]{2}){4}", fullmatch=True))
def test_normalising_is_idempotent(raw: str) -> None:
    """An E.164 number normalises to itself, so stored keys are stable."""
    once = to_e164(raw, "FR")
    assert to_e164(once, "US") == once
    assert once.startswith("+33")


def test_directory_finds_a_customer_by_phone_email_or_number(store: Store) -> None:
    """Whatever the caller id's format, the e-mail's case, or the key used."""
    directory = CustomerDirectory(store)
    saved = directory.save(
        Customer(
            number="C-100",
            name="Ana Lima",
            email=" Ana.Lima@Example.org ",
            phones=("06 12 34 56 78", "+33 1 42 68 53 00"),
            attributes={"segment": "gold"},
        )
    )
    assert saved.customer_id > 0
    assert saved.phones == ("+33142685300", "+33612345678")
    assert directory.by_phone("+33612345678") == saved
    assert directory.by_phone("0033 6 12 34 56 78") == saved
    assert directory.by_email("ana.lima@EXAMPLE.org") == saved
    assert directory.by_number("C-100") == saved
    assert directory.by_phone("not a number") is None
    assert directory.by_phone("01 99 99 99 99") is None
    assert directory.find(CustomerQuery(contact_id="x", phone="0612345678")) == saved
    assert directory.find(CustomerQuery(contact_id="x")) is None


def test_saving_again_updates_by_customer_number(store: Store) -> None:
    """The customer number is the key: a second save replaces phones and details."""
    directory = CustomerDirectory(store)
    first = directory.save(Customer(number="C-1", name="Old", phones=("0612345678",)))
    second = directory.save(Customer(number="C-1", name="New", phones=("0698765432",)))
    assert second.customer_id == first.customer_id
    assert directory.by_phone("0612345678") is None
    assert directory.by_phone("0698765432") == second
    with pytest.raises(ValidationError):
        directory.save(Customer(number=" ", name="nobody"))


def test_csv_import_saves_good_rows_and_reports_bad_ones(store: Store, tmp_path: Path) -> None:
    """Good rows are imported, bad ones skipped with their line number; extras become attributes."""
    path = tmp_path / "crm.csv"
    path.write_text(
        "Number,Name,Email,Phones,Segment\n"
        "C-1,Ana,ana@example.org,06 12 34 56 78;01 42 68 53 00,gold\n"
        "C-2,Bo,,not-a-phone,silver\n"
        ",Nobody,,,\n"
        "C-3,Cy,CY@example.org,,\n",
        encoding="utf-8",
    )
    directory = CustomerDirectory(store)
    report = import_customers_csv(directory, path)
    assert report.saved == 2
    assert [line for line, _ in report.rejected] == [3, 4]
    ana = directory.by_phone("0142685300")
    assert ana is not None
    assert ana.attributes == {"segment": "gold"}
    assert directory.by_email("cy@example.org") is not None


def test_csv_without_the_required_columns_is_a_config_error(store: Store) -> None:
    """A file missing number or name is refused before anything is saved."""
    with pytest.raises(ConfigError, match="number and name"):
        import_customers_csv(CustomerDirectory(store), ["id,fullname", "1,Ana"])
