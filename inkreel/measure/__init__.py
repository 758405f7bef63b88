"""Pixels -> numbers, shared by the checks and the evaluations.

* `figures`: which pixels are the characters (against the set), and the thresholds for it;
* `identity`: a figure crop's descriptor and its similarity to the references;
* `colour`: CIEDE2000 distances to design colours;
* `matching`: masked normalised cross-correlation and its helpers.
"""
