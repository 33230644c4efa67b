"""Contract-test kit: suites that check any server against the spec and the API's rules."""
