"""QA controls: request journal, reset and fixtures, clock, fault injection, shared settings."""
