"""Everything that talks to GitHub through PyGithub: the client, every wait and retry, error
wording, the GraphQL query, pull requests and their comment, and which repository hosts a tree."""
