"""Trusted grading: sandboxed autograde, integrity checks and feedback without hidden tests."""
