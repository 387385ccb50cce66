"""Suite-wide setup."""

import os

# When the suite itself runs in GitHub Actions, the runner's variables would switch the
# CLI under test into Actions mode and make it write into this job's real step summary
# and outputs. Tests that want Actions mode set these variables themselves.
GITHUB_ACTIONS_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_WORKSPACE",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_STATE",
    "GITHUB_EVENT_NAME",
    "GITHUB_EVENT_PATH",
)


def pytest_configure(config):
    for name in GITHUB_ACTIONS_VARIABLES:
        os.environ.pop(name, None)
