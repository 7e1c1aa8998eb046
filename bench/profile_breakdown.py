"""Sum a py-spy raw profile of the service into the table "where the time goes per request".

Record a profile while wrk loads one endpoint, then summarise it:
    .venv/bin/py-spy record -p SERVICE_PID -d 5 -r 500 -f raw -o get.raw
    .venv/bin/python bench/profile_breakdown.py get.raw
Each sample goes to the category of the deepest frame that matches one of
RULES; samples that match none are event-loop and Tornado plumbing.
"""

import sys
from collections import Counter

RULES = [
    ("Redis round trip (client and store)", ("personsvc/redis_connection.py", "personsvc/store.py")),
    ("body validation (schema, e-mail)", ("personsvc/validation.py", "fastjsonschema", "jsonschema", "email_validator")),
    ("JSON parsing", ("json/decoder.py", "json/__init__.py")),
    ("writing the response (headers, socket)", ("RequestHandler.finish", "RequestHandler.flush", "HTTP1Connection.write_headers", "HTTP1Connection.finish", "IOStream.write", "GuardedIOStream.write", "_handle_write", "write_to_fd")),
    ("parsing the request (line, headers)", ("HTTP1Connection._parse_headers", "HTTPHeaders.parse", "parse_request_start_line", "HTTPServerRequest.__init__")),
    ("reading from the socket", ("read_from_fd", "_read_to_buffer", "_handle_read", "read_until_regex")),
    ("handler setup and routing", ("RequestHandler.__init__", "RequestHandler.clear", "find_handler", "get_target_delegate", "BaseHandler.initialize", "set_default_headers")),
    ("service handler code (checks, metrics, logs)", ("personsvc/handlers/", "personsvc/observability.py", "personsvc/app.py", "personsvc/errors.py")),
]
def category(stack: str) -> str:
    # The deepest frame that matches a rule decides.
    for frame in reversed(stack.split(";")):
        for name, needles in RULES:
            if any(n in frame for n in needles):
                return name
    return "event loop and Tornado plumbing"


def main(path: str) -> None:
    counts: Counter[str] = Counter()
    total = 0
    with open(path) as samples:
        for line in samples:
            stack, _, count_text = line.rstrip().rpartition(" ")
            count = int(count_text)
            total += count
            counts[category(stack)] += count
    print("| where | share of samples |\n|---|---|")
    for name, count in counts.most_common():
        print(f"| {name} | {100 * count / total:.0f}% |")


if __name__ == "__main__":
    main(sys.argv[1])
