"""Offline work that makes the run-time models: reader training and calibration fitting."""
