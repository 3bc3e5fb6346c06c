"""The use cases: one function per thing a person (or the scheduler) does, each in one database transaction.

The web pages, the JSON API and the command line call these and nothing below them."""
