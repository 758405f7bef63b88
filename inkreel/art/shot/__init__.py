"""Shots: characters staged on a set, animated, composed frame by frame."""
