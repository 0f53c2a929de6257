"""A person turns on two-factor sign-in, then signs in with a one-time code from their app."""
import re
import time

import pyotp
from playwright.sync_api import expect

from tests import factories


def current_code(db, user, steps_ahead=0):
    db.session.expire_all()
    totp = pyotp.TOTP(user.totp_secret)
    return totp.at(time.time() + steps_ahead * totp.interval)


def test_turn_on_two_factor_and_sign_in_with_a_code(page, live_server, sign_in, rep, db):
    sign_in(page, rep)
    page.get_by_role("link", name=re.compile("Rae Rep")).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    qr = page.get_by_alt_text(re.compile("QR code"))
    expect(qr).to_be_visible()
    page.wait_for_function("() => document.querySelector('.setup-qr img').naturalWidth > 0")
    page.get_by_label("Code from the app").fill(current_code(db, rep))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator("#two-factor")).to_contain_text("On")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Email").fill(rep.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    # The code after the one used to turn it on: each code works once.
    page.get_by_label("Code").fill(current_code(db, rep, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("link", name=re.compile("Rae Rep"))).to_be_visible()
