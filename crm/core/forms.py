"""Form helpers shared by features."""
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput


class MoneyField(Field):
    """An amount typed in major units ("1,250.50"), kept as integer minor units."""

    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data / 100:.2f}".removesuffix(".00")

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        raw = valuelist[0].strip().replace(",", "").replace(" ", "").lstrip("$€£")
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise ValueError("Enter an amount such as 1500 or 1500.50.")
        if amount < 0:
            raise ValueError("Amount cannot be negative.")
        if amount.as_tuple().exponent < -2:
            raise ValueError("Use at most two decimals.")
        self.data = int(amount * 100)


_SCALES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


class CountField(Field):
    """A head count as people type it: "120k", "1.2M", "12,000" or "12 000"."""

    widget = TextInput(input_type="text")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        raw = "".join(valuelist[0].split()).replace(",", "").lower()
        scale = _SCALES.get(raw[-1:], 1)
        if scale > 1:
            raw = raw[:-1]
        try:
            amount = Decimal(raw) * scale
        except InvalidOperation:
            raise ValueError("Enter a number such as 120000, 120k or 1.2M.")
        if amount < 0:
            raise ValueError("Cannot be negative.")
        if amount != amount.to_integral_value():
            raise ValueError("Enter a whole number of people (1.5k is 1500).")
        self.data = int(amount)


def apply_service_error(form, error) -> None:
    """Show a ServiceError on the field it names, or on the form as a whole."""
    target = None
    if error.field:
        target = form
        for part in error.field.split("-"):
            target = target[int(part)] if part.isdigit() else getattr(target, part, None)
            if target is None:
                break
    if target is not None and hasattr(target, "errors"):
        if isinstance(target.errors, tuple):
            target.errors = list(target.errors)
        target.errors.append(error.message)
    else:
        form.form_errors.append(error.message)


def not_negative(form, field):
    if field.data is not None and field.data < 0:
        raise ValidationError("Cannot be negative.")


def int_or_none(value) -> int | None:
    """A form or query-string value as a whole number; None when missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FilterForm(FlaskForm):
    """A list page's filters as its query string understands them: what a saved view of the
    page is checked against (GET parameters, so no CSRF token)."""

    class Meta:
        csrf = False


OWNER_FILTER_MESSAGE = "Choose anyone, me, unassigned or a team member."
OWNER_FILTER = r"^(me|none|\d+)$"
