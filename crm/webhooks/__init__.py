"""Outbound webhooks: an admin registers a receiver's URL and the events it wants; every
event is signed and delivered by a job, retried with exponential backoff for a day.

- models.py     endpoints, their deliveries (the outbox) and each delivery's attempts
- addresses.py  which URLs may receive: http(s), and no private address unless allowed
- outbox.py     `emit(...)`: what the services that write the facts call, in their transaction
- payloads.py   the record each event carries
- signing.py    the signature headers (HMAC-SHA256 over "timestamp.body")
- sending.py    one HTTP POST to a checked, pinned address
- delivery.py   one attempt of a delivery, the backoff, turning a failing endpoint off
- jobs.py       the delivery job and the periodic retry of those that are due
- services.py   what the admin page does; views.py the page itself
"""
