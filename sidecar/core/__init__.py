"""Settings, the error tree, logging and the dependency container every layer shares."""
