"""The instructor's course folder on the hub: its nbgrader_config.py applies wherever nbgrader runs."""

from traitlets.config.loader import PyFileConfigLoader


def include_course_config(c, course_root: str) -> None:
    """Merge ``course_root/nbgrader_config.py`` into ``c``: formgrader runs in the home, not in the course folder,
    and nbgrader reads a folder's config only when it runs in that folder."""
    c.merge(PyFileConfigLoader("nbgrader_config.py", path=course_root).load_config())
