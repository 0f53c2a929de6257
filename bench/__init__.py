"""Benchmarks: a generated dataset at scale, served by gunicorn, driven by wrk (`make bench`)."""
