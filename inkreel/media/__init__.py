"""Media: audio, motion, timeline operations, rendering and exports."""
