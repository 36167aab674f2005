"""One module per `biasprobe` subcommand: HELP, add_arguments(parser), run(args)."""
