"""Mutation check: curated semantic mutations, each of which a non-snapshot test must kill."""
