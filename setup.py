"""Packaging, beyond pyproject.toml: the bundled themes ship from the repository's top level.

The theme files live in ``themes/`` at the top of the repository and install as the package
``codeagent.themes``. pyproject's ``packages.find`` can only list folders under ``codeagent/``,
so the package list is found here and the mapped folder added to it.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["codeagent*"]), "codeagent.themes"],
    package_dir={"codeagent.themes": "themes"},
)
