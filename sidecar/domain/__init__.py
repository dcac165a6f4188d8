"""The rules with no I/O: the intent's states, money, form validation."""
