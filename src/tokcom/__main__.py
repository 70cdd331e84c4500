from tokcom.cli.app import entry

entry()
