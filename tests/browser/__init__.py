"""The browser tests (make browser-test): a package, so that its conftest does not shadow
tests/conftest.py under the module name ``conftest``."""
