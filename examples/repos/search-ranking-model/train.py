"""Train the search ranking model (stand-in for the real training code)."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--learning-rate", type=float, default=0.05)
parser.add_argument("--num-leaves", type=int, default=31)
parser.add_argument("--data", required=True)
print(parser.parse_args())
