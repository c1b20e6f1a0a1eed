"""The in-memory twins of the DynamoDB adapters (`adapters.dynamo`), for unit tests: one table (`table`)
that applies a CaseChange under one lock, and the same queries by area. The contract tests
(tests/integration/*contract*) run one set of tests against both."""
