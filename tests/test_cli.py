"""The command line: users create, demo load."""
from crm.accounts.models import User
from crm.contacts.models import Contact


def test_users_create_with_password(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "Boss@Example.com",
                                                "--role", "admin", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    user = db.session.query(User).one()
    assert user.email == "boss@example.com" and user.role == "admin"
    assert user.check_password("a long password")


def test_users_create_prompts_for_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "rep@example.com", "--role", "rep"],
        input="prompted password\nprompted password\n")
    assert result.exit_code == 0, result.output
    assert db.session.query(User).one().check_password("prompted password")


def test_users_create_bad_input(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "x@example.com", "--password", "short"])
    assert result.exit_code != 0 and "at least 10" in result.output
    result = runner.invoke(args=["users", "create", "--email", "x@example.com", "--role", "boss",
                                 "--password", "long enough pw"])
    assert result.exit_code != 0
    assert db.session.query(User).count() == 0


def test_demo_load_once(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty", "--contacts", "60"])
    assert result.exit_code == 0, result.output
    assert {u.role for u in db.session.query(User)} == {"admin", "manager", "rep"}
    count = db.session.query(Contact).count()
    assert count == 60
    assert db.session.query(Contact).filter(Contact.consent_status == "opted_out").count() > 0
    from crm.contacts import dm_counts
    assert dm_counts.stored_hours() == dm_counts.recounted_hours() != {}   # counts current
    assert dm_counts.stored_totals() == dm_counts.recounted_totals()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "already present" in result.output
    assert db.session.query(Contact).count() == count


def test_users_reset_link_prints_a_working_link(app, db, rep):
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-link", "--email", rep.email,
                                 "--base-url", "https://crm.example.com"])
    assert result.exit_code == 0, result.output
    link = result.output.split("once: ")[1].strip()
    assert link.startswith("https://crm.example.com/reset/")
    path = link.removeprefix("https://crm.example.com")
    resp = app.test_client().post(path, data={"new_password": "brand new words",
                                              "confirm": "brand new words"})
    assert resp.status_code == 302
    result = runner.invoke(args=["users", "reset-link", "--email", "nobody@example.com"])
    assert result.exit_code != 0 and "No user with the email" in result.output


def test_users_two_factor_off(app, db, rep):
    from crm.accounts import two_factor
    import pyotp

    two_factor.start_enrolment(rep)
    two_factor.confirm_enrolment(rep, pyotp.TOTP(rep.totp_secret).now())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "two-factor-off", "--email", rep.email])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not rep.two_factor_on
    from crm.audit.models import AuditEvent
    event = db.session.query(AuditEvent).filter_by(action="two_factor_off").one()
    assert event.actor_id is None and "command line" in event.summary


def test_a_failing_command_says_why_on_one_line(app, db):
    import click
    from flask import Flask

    from crm.commands import one_line_errors
    from crm.core.errors import ValidationFailed

    scratch = Flask("scratch")

    @scratch.cli.group("things")
    def things():
        """A group, as features register theirs."""

    @things.command("refuse")
    def refuse():
        raise ValidationFailed("Row 3: the email is not valid.")

    @things.command("break")
    def broken():
        raise ValueError("no such column\nsecond line")

    @scratch.cli.command("fine")
    def fine():
        click.echo("done")

    one_line_errors(scratch)
    runner = scratch.test_cli_runner()
    refused = runner.invoke(args=["things", "refuse"])
    assert refused.exit_code == 1
    assert refused.output == "Error: Row 3: the email is not valid.\n"
    broke = runner.invoke(args=["things", "break"])
    assert broke.exit_code == 1 and broke.output == "Error: ValueError: no such column\n"
    assert runner.invoke(args=["fine"]).output == "done\n"


def test_the_cli_reads_the_secret_key_make_run_keeps(monkeypatch, tmp_path):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert config._secret_key() is None
    (tmp_path / "secret_key").write_text("kept-by-make-run\n")
    assert config._secret_key() == "kept-by-make-run"
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert config._secret_key() == "from-the-environment"


def test_no_secret_key_is_one_clear_line(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "RAPPORT_CONFIG")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code = ("import config, pathlib; config.INSTANCE_DIR = pathlib.Path(r'%s'); "
            "config.Config.SECRET_KEY = config._secret_key(); import wsgi" % tmp_path)
    run = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr.startswith("Error: SECRET_KEY is not set") and run.stderr.count("\n") == 1
