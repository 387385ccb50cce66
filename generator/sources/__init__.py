"""Sources yield RepoSnapshots: the edge between Modelship and where repositories live."""
