"""Sets: a location's backdrop and elements drawn through a camera, in depth layers."""
