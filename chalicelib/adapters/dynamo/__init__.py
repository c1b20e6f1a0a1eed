"""The DynamoDB adapters: one table (single-table design, pynamodb), its models declared once (`models`), its
key formats in one module (`keys`), errors translated to the ports' (`errors`), every write to a case applied
as one transaction (`changes`), and the stores' queries by area (`cases`, `work`, `decisions`, `documents`,
`tokens`, `results`, `last_known`). Import the submodules: nothing here is loaded before it is used."""
