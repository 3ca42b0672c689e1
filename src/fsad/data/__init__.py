"""Data: adapters for released layouts, the synthetic generator, the HDF5 frame store, windows."""
