"""End-to-end tests that cross both halves through files (the loop)."""
