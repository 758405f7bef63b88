"""Characters: body, face, hair and clothes drawn as a display list, and reference sheets."""
