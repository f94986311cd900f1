"""What an overseer runs on its own machine, apart from the agency's store: the witness."""
