"""A series as a whole: its episodes read together (the morning report)."""
