"""Only for `scrapyd-deploy`, which builds its egg with ``setup.py bdist_egg``.

Everything about the package lives in pyproject.toml; without this file scrapyd-deploy writes a
setup.py of its own that finds no package in the src/ layout.
"""

from setuptools import setup

setup()
