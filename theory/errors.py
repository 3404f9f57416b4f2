"""User-facing errors: bad input that the command line reports in one line, without a traceback."""


class UserInputError(ValueError):
    """Input outside what a command accepts (a norm string, a data file, a claim id, ...)."""
