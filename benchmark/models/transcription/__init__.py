"""Transcription models."""
