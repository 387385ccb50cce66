"""What the tests and benchmarks share: builders of MLprojects and platform folders, git
fixtures, the real tools they drive, and loopback fakes of GitHub (``fakes/``)."""
