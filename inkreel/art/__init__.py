"""Procedural manhua drawing: sets seen through cameras, ink-and-cel characters, shots.

Everything is drawn with Pillow and numpy, deterministically: the only variety (books on a
shelf, stars, clouds) comes from seeds hashed out of the inputs, so the same shot always
renders to the same bytes.

A staged shot also carries its animation, prepared once: breathing, blinks and gesture poses
as sparse pixel patches, a pan as depth layers on a canvas wider than the frame, a push-in as
a handful of zoom levels to crossfade, manga effects as a few stamps. Composing a frame is
then a matter of copying pixels.
"""
