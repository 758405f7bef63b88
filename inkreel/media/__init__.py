"""Media: procedural art, audio, timeline operations, rendering and exports."""
