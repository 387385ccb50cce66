"""One module per subcommand: each has DESCRIPTION, EXAMPLES, configure(parser) and run(args);
its one line in `modelship --help` is in cli.COMMANDS."""
