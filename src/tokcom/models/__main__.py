"""``python -m tokcom.models list|fetch NAME...|path NAME`` (same as ``tokcom models ...``)."""

import sys

from tokcom.cli.models import models_app
from tokcom.errors import TokcomError


def main() -> int:
    try:
        models_app(args=sys.argv[1:], prog_name="python -m tokcom.models", standalone_mode=False)
    except TokcomError as e:
        sys.stderr.write(f"tokcom: error: {' '.join(str(e).split())}\n")
        return 2
    except SystemExit as e:
        return int(e.code or 0)
    except Exception as e:  # click usage errors
        if type(e).__name__ in ("UsageError", "BadParameter", "NoSuchOption", "MissingParameter"):
            sys.stderr.write(f"tokcom: error: {e}\n")
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
