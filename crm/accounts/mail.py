"""Sending a reset link by email, only when an SMTP server is configured (SMTP_HOST)."""
import smtplib
from email.message import EmailMessage

from flask import current_app, render_template


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def send_reset_link(user, link: str, hours: int) -> bool:
    """Email the link to the user; False (and a warning in the log) when it could not go."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = "Choose a new Rapport password"
    message["From"] = config["SMTP_FROM"]
    message["To"] = user.email
    message.set_content(render_template("accounts/email/reset_link.txt", user=user, link=link,
                                        hours=hours))
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as e:
        current_app.logger.warning("Reset link for %s not emailed: %s", user.email, e)
        return False
    return True
