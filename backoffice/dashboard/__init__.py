"""The admin's home page: what support and finance staff look at first (selectors.py: the
numbers; charts.py: inline SVG; widgets.py: who sees what, with links to the lists)."""
