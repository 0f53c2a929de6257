"""The REST API under /api/v1: personal tokens (Authorization: Bearer), the same policy,
consent gate, services and validation as the pages, cursor pages, problem documents, and an
OpenAPI document generated from the schemas that validate the requests."""
