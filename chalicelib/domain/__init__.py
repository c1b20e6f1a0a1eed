"""Pure domain: no boto3, no chalice. Rules that are testable in microseconds."""
