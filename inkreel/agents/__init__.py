"""One module per role; node functions only, wiring lives in inkreel.graphs."""
