"""End-to-end tests: a real JupyterLab server and Debian's Chromium, driven by Playwright.

A package (this file) so that its conftest.py is imported as ``browser.conftest`` and does not
replace the ``conftest`` module that the tests one folder up import by name.
"""
