"""The consent domain: plain Python, no HTTP. Time comes from a clock passed in."""
