"""One module per subcommand: each has HELP, DESCRIPTION, configure(parser) and run(args)."""
