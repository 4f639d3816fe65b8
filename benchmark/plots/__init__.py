"""Figures written into run directories (matplotlib with the non-interactive Agg backend).

One module per task family; each exposes ``run_figures(...)`` used by the family's
``figures()`` hook. Modules import matplotlib only inside their functions.
"""
