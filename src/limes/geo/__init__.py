"""Frames, chainage and offset along the border, raster grids, terrain."""
