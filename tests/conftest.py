"""Test configuration: the pytester fixture drives the plugin end to end."""

pytest_plugins = ["pytester"]
