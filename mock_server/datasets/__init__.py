"""Dataset files: their format (format.py), a Faker generator (generate.py) and a loader
(load.py) whose waiting consents play out as the clock moves."""
