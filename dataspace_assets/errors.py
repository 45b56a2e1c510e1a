"""The one exception type the command line turns into a clear message instead of a traceback."""


class DataspaceError(Exception):
    """A user-facing error: bad input, an unreachable service, a refused action.

    The message must name what is wrong and where (file and key, URL, source id).
    """

    exit_code = 1
