"""How results are shown: the console, findings, change sets (text, JSON, pull-request
markdown, commit messages, step summaries), and GitHub Actions mode."""
