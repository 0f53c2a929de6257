"""The contacts CSV importer's jobs: checking a file and writing its rows (see crm.imports.jobs
for what every import job shares)."""
from crm.imports.contacts_csv import services as csv_service
from crm.imports.jobs import step

step("imports.check_csv", label="Checking a contacts CSV", starts_from="analysing",
     work=csv_service.check, failure="The file could not be checked")
step("imports.write_csv", label="Contacts CSV import", starts_from="running",
     work=csv_service.run_import, failure="The import stopped")
