"""Running experiments: the marker, settings, the session, the round loop and the `concur`
fixture.
"""
