"""What the grader keeps of a message a graded kernel sends: every kind of output cut to a size a page can show.

A submission decides how long its printed text, its exceptions' messages and its objects' reprs are: one with a
10 MB exception and a 16 MB repr made a 62 MB feedback page and class report. Printed text (stream) is capped
per cell by the notebook client (``execute.TrustedNotebookClient``); this caps the rest, one message at a time.
"""

MAX_TEXT_CHARACTERS = 20_000  # an exception message, a traceback, a text repr (text/plain, text/html ...)
MAX_TRACEBACK_LINES = 60
MAX_DATA_CHARACTERS = 2_000_000  # any other representation, such as a figure's PNG (some 30 kB for a plot)
MAX_NAME_CHARACTERS = 200  # an exception's class name


def cut(text: str, limit: int) -> str:
    """``text`` itself when it fits, else its start and a line saying it was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[cut: the grader keeps {limit} characters of this output]"


def capped_data(data: dict) -> dict:
    """A display's representations: text cut, and any other one too large replaced by a note."""
    kept, dropped = {}, []
    for mime, value in data.items():
        if not isinstance(value, str):
            kept[mime] = value  # a JSON representation
        elif mime.startswith("text/"):
            kept[mime] = cut(value, MAX_TEXT_CHARACTERS)
        elif len(value) <= MAX_DATA_CHARACTERS:
            kept[mime] = value
        else:
            dropped.append(f"{mime} output of {len(value)} characters")
    if dropped:
        kept.setdefault("text/plain", f"[{', '.join(dropped)}: not kept by the grader]")
    return kept


def capped(message: dict) -> dict:
    """An iopub output message (error, execute_result, display_data, update_display_data) with its content cut."""
    content = message.get("content", {})
    kind = message.get("msg_type")
    if kind == "error":
        traceback = [cut(str(line), MAX_TEXT_CHARACTERS) for line in content.get("traceback", [])]
        if len(traceback) > MAX_TRACEBACK_LINES:
            half = MAX_TRACEBACK_LINES // 2
            traceback = [*traceback[:half], "[traceback cut]", *traceback[-half:]]
        content = {**content, "ename": cut(str(content.get("ename", "")), MAX_NAME_CHARACTERS),
                   "evalue": cut(str(content.get("evalue", "")), MAX_TEXT_CHARACTERS), "traceback": traceback}
    elif kind in ("execute_result", "display_data", "update_display_data") and isinstance(content.get("data"), dict):
        content = {**content, "data": capped_data(content["data"])}
    else:
        return message
    return {**message, "content": content}
